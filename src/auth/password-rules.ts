/** Password length rules. Imports nothing, so the API schemas (and the client's types) can read them. */
export const MIN_PASSWORD_LENGTH = 10;
export const MAX_PASSWORD_LENGTH = 256;
