/** Member roles, highest first. Imports nothing, so the API schemas (and the client's types) can read it. */
export const ROLES = ["owner", "admin", "member"] as const;
export type Role = (typeof ROLES)[number];
