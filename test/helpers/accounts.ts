import { call } from "./api";

let counter = 0;
export const PASSWORD = "correct-horse-battery-staple";

export interface SignedUp {
  user: { id: string; email: string };
  team: { id: string; name: string; plan: string };
  token: string;
  email: string;
}

/** A fresh user with a Free team, signed in. */
export async function signupUser(label = "user"): Promise<SignedUp> {
  const email = `${label}-${Date.now()}-${++counter}-${crypto.randomUUID().slice(0, 8)}@example.com`;
  // Each test user signs up from its own address, as real clients do (sign-up is limited per address).
  const address = `198.51.100.${counter % 250}`;
  const res = await call("POST", "/auth/signup", { body: { email, password: PASSWORD, teamName: `${label} team` }, headers: { "cf-connecting-ip": address } });
  if (res.status !== 201) throw new Error(`signup failed: ${res.status} ${res.text}`);
  return { ...res.json, email };
}

/** Calls with a session token. */
export const asUser = (token: string, method: string, path: string, body?: unknown) => call(method, path, { headers: { authorization: `Bearer ${token}` }, body });

export async function createKey(token: string, teamId: string, body: Record<string, unknown> = { name: "key" }) {
  return asUser(token, "POST", `/teams/${teamId}/apikeys`, body);
}
