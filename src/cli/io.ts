import type { Readable, Writable } from "node:stream";

/**
 * Everything the CLI touches of its process, in one object: the commands never reach for
 * `process` themselves, so where output goes and whether it is coloured is decided once.
 */
export interface Io {
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable & { isTTY?: boolean };
  stdin: Readable & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };
  env: Record<string, string | undefined>;
  cwd: string;
}

export function processIo(): Io {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env, cwd: process.cwd() };
}

/** Colours only on a terminal, never with NO_COLOR (any non-empty value, no-color.org) or TERM=dumb. */
export function useColour(io: Io, stream: "stdout" | "stderr"): boolean {
  if (io.env.NO_COLOR) return false;
  if (io.env.TERM === "dumb") return false;
  return io[stream].isTTY === true;
}

export interface Paint {
  bold(text: string): string;
  dim(text: string): string;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
}

const wrap = (open: number, close: number) => (text: string) => `\u001b[${open}m${text}\u001b[${close}m`;
const plain = (text: string) => text;

export function paint(enabled: boolean): Paint {
  if (!enabled) return { bold: plain, dim: plain, red: plain, green: plain, yellow: plain };
  return { bold: wrap(1, 22), dim: wrap(2, 22), red: wrap(31, 39), green: wrap(32, 39), yellow: wrap(33, 39) };
}
