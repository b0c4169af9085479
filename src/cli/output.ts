import { paint, useColour, type Io, type Paint } from "./io";

/**
 * What a command prints: a table or fields for people, the API's JSON for scripts (`--json`).
 * Data goes to stdout, messages to stderr, so `--json` output and `get` values pipe cleanly.
 */
export interface Column<T> {
  header: string;
  value: (row: T) => unknown;
}

export class Output {
  readonly out: Paint;
  readonly err: Paint;

  constructor(
    private readonly io: Io,
    readonly json: boolean,
  ) {
    this.out = paint(useColour(io, "stdout"));
    this.err = paint(useColour(io, "stderr"));
  }

  /** `--json`: the data as is; otherwise `human()` prints it for people. */
  result(data: unknown, human: () => void): void {
    if (this.json) this.io.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
    else human();
  }

  line(text = ""): void {
    this.io.stdout.write(`${text}\n`);
  }

  /** A message about what happened (stderr: never mixed into data). */
  note(text: string): void {
    if (!this.json) this.io.stderr.write(`${text}\n`);
  }

  warn(text: string): void {
    this.io.stderr.write(`${this.err.yellow("warning:")} ${text}\n`);
  }

  table<T>(rows: T[], columns: Column<T>[], empty = "(none)"): void {
    if (rows.length === 0) {
      this.line(this.out.dim(empty));
      return;
    }
    const cells = rows.map((row) => columns.map((c) => cell(c.value(row))));
    const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((r) => r[i]?.length ?? 0)));
    const pad = (text: string, i: number) => (i === columns.length - 1 ? text : text.padEnd(widths[i] ?? 0));
    this.line(this.out.bold(columns.map((c, i) => pad(c.header, i)).join("  ")));
    for (const r of cells) this.line(r.map((text, i) => pad(text, i)).join("  "));
  }

  /** One record as aligned `field  value` lines. */
  fields(entries: [string, unknown][]): void {
    const width = Math.max(...entries.map(([k]) => k.length));
    for (const [k, v] of entries) this.line(`${this.out.dim(k.padEnd(width))}  ${cell(v)}`);
  }
}

function cell(value: unknown): string {
  if (value === null || value === undefined || value === "") return "-";
  if (Array.isArray(value)) return value.length ? value.map(String).join(",") : "-";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value).replace(/[\r\n\t]/g, " ");
}
