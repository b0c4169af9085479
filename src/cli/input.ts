import { UsageError } from "./errors";
import type { Io } from "./io";

/**
 * Values from the user without the shell history: `-` reads stdin, prompts hide what is typed.
 * Stdin is read once per run: a command takes at most one value from it, or, when it is not a
 * terminal, the answers to its prompts line by line.
 */
export class Input {
  private buffered: Promise<string> | undefined;
  private lines: string[] | undefined;
  private stdinClaimed = false;

  constructor(private readonly io: Io) {}

  /** The whole of stdin, less one trailing newline (what `echo` and heredocs add). */
  async stdinValue(what: string): Promise<string> {
    if (this.stdinClaimed) throw new UsageError(`only one value can be read from stdin (${what})`);
    this.stdinClaimed = true;
    if (this.io.stdin.isTTY) this.io.stderr.write(`Enter ${what}, then Ctrl-D:\n`);
    const text = await this.readAll();
    return text.replace(/\r?\n$/, "");
  }

  /** A visible answer (e.g. an email). */
  async ask(question: string): Promise<string> {
    if (!this.io.stdin.isTTY) return this.nextLine(question);
    return this.askTerminal(question, false);
  }

  /** A hidden answer (password, value): nothing is echoed on a terminal. */
  async askHidden(question: string): Promise<string> {
    if (!this.io.stdin.isTTY) return this.nextLine(question);
    return this.askTerminal(question, true);
  }

  private async nextLine(question: string): Promise<string> {
    if (!this.lines) this.lines = (await this.readAll()).split(/\r?\n/);
    const line = this.lines.shift();
    if (line === undefined || (line === "" && this.lines.length === 0)) throw new UsageError(`${question.replace(/:\s*$/, "")}: no answer on stdin`);
    return line;
  }

  private readAll(): Promise<string> {
    this.buffered ??= new Promise<string>((resolve, reject) => {
      const chunks: Buffer[] = [];
      this.io.stdin.on("data", (chunk: Buffer | string) => chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk));
      this.io.stdin.once("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
      this.io.stdin.once("error", reject);
    });
    return this.buffered;
  }

  /** Raw mode, so the typed characters are read one by one and never echoed when hidden. */
  private askTerminal(question: string, hidden: boolean): Promise<string> {
    const { stdin, stderr } = this.io;
    // Raw mode before the prompt shows: what is typed after it is never echoed by the terminal.
    stdin.setRawMode?.(true);
    stderr.write(question);
    return new Promise<string>((resolve, reject) => {
      let answer = "";
      const finish = (error?: Error) => {
        stdin.off("data", onData);
        stdin.setRawMode?.(false);
        stdin.pause();
        stderr.write("\n");
        if (error) reject(error);
        else resolve(answer);
      };
      const onData = (chunk: Buffer | string) => {
        for (const char of String(chunk)) {
          if (char === "\r" || char === "\n" || char === "\u0004") return finish();
          if (char === "\u0003") return finish(new UsageError("cancelled"));
          if (char === "\u007f" || char === "\b") {
            if (answer.length > 0) {
              answer = answer.slice(0, -1);
              if (!hidden) stderr.write("\b \b");
            }
            continue;
          }
          answer += char;
          if (!hidden) stderr.write(char);
        }
      };
      stdin.resume();
      stdin.on("data", onData);
    });
  }
}

/**
 * `KEY=VALUE` arguments. A value of `-` is read from stdin. Errors name the argument's position,
 * never its text (it holds a value).
 */
export async function parseAssignments(args: string[], input: Input, keyPattern?: RegExp): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const [index, arg] of args.entries()) {
    const eq = arg.indexOf("=");
    if (eq <= 0) throw new UsageError(`argument ${index + 1}: expected KEY=VALUE (KEY=- reads the value from stdin)`);
    const key = arg.slice(0, eq);
    if (keyPattern && !keyPattern.test(key)) throw new UsageError(`argument ${index + 1}: the key before '=' must match ${keyPattern.source}`);
    if (out.has(key)) throw new UsageError(`${key} is given twice`);
    const raw = arg.slice(eq + 1);
    out.set(key, raw === "-" ? await input.stdinValue(`the value of ${key}`) : raw);
  }
  return out;
}

/** `--value V`, `--value -` (stdin), or, with neither, a hidden prompt on a terminal. */
export async function valueOption(value: string | undefined, input: Input, io: Io, what: string): Promise<string> {
  if (value === "-") return input.stdinValue(what);
  if (value !== undefined) return value;
  if (io.stdin.isTTY) return input.askHidden(`${what[0]?.toUpperCase()}${what.slice(1)}: `);
  throw new UsageError(`${what} is required: --value VALUE, or --value - to read it from stdin`);
}
