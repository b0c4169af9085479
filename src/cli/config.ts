import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type { Io } from "./io";

/**
 * The user's CLI state: one session file in the config directory
 * (`$TOKEN_VAULT_CONFIG_DIR`, else `$XDG_CONFIG_HOME/token-vault`, else `~/.config/token-vault`),
 * directory 0700, file 0600. It holds the server URL, the email and the session token of the
 * last `login`: never a vault value.
 */
export interface Session {
  url: string;
  email: string;
  /** The session JWT (`POST /auth/login`). */
  token: string;
  savedAt: string;
}

export const SESSION_FILE = "session.json";

export function configDir(io: Io): string {
  if (io.env.TOKEN_VAULT_CONFIG_DIR) return io.env.TOKEN_VAULT_CONFIG_DIR;
  const base = io.env.XDG_CONFIG_HOME || join(io.env.HOME || homedir(), ".config");
  return join(base, "token-vault");
}

export function readSession(io: Io): Session | undefined {
  const file = join(configDir(io), SESSION_FILE);
  if (!existsSync(file)) return undefined;
  try {
    const parsed = JSON.parse(readFileSync(file, "utf8")) as Partial<Session>;
    if (typeof parsed.url === "string" && typeof parsed.token === "string" && typeof parsed.email === "string") {
      return { url: parsed.url, token: parsed.token, email: parsed.email, savedAt: String(parsed.savedAt ?? "") };
    }
  } catch {
    // A damaged file is treated as no session: `login` writes a good one.
  }
  return undefined;
}

export function writeSession(io: Io, session: Session): string {
  const dir = configDir(io);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // mkdir's mode does not apply to a directory that already existed.
  chmodSync(dir, 0o700);
  const file = join(dir, SESSION_FILE);
  const temp = `${file}.${process.pid}.tmp`;
  // Created 0600 from the first byte, then renamed over the old file: never readable by others.
  writeFileSync(temp, `${JSON.stringify(session, null, 2)}\n`, { mode: 0o600 });
  chmodSync(temp, 0o600);
  renameSync(temp, file);
  return file;
}

export function deleteSession(io: Io): boolean {
  const file = join(configDir(io), SESSION_FILE);
  if (!existsSync(file)) return false;
  rmSync(file);
  return true;
}

/** `token-vault.json` in the working directory (`vault init`): which vault this project uses. */
export const PROJECT_FILE = "token-vault.json";

export function readProjectVault(io: Io): string | undefined {
  const file = join(io.cwd, PROJECT_FILE);
  if (!existsSync(file)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch {
    return undefined;
  }
  const vault = (parsed as { vault?: unknown } | null)?.vault;
  return typeof vault === "string" && vault ? vault : undefined;
}

export function writeProjectVault(io: Io, vault: string): string {
  const file = join(io.cwd, PROJECT_FILE);
  writeFileSync(file, `${JSON.stringify({ vault }, null, 2)}\n`);
  return file;
}
