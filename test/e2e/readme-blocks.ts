/** The README's shell examples, for the suites that run them (readme.e2e, cli-readme.e2e). */
export const SKIP = "<!-- readme-test: skip -->";

export interface ShellBlock {
  line: number;
  code: string;
  skipped: boolean;
}

/** The README's ```sh blocks, each marked skipped when the line before its fence is the skip comment. */
export function shellBlocks(markdown: string): ShellBlock[] {
  const lines = markdown.split("\n");
  const blocks: ShellBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]?.trim() !== "```sh") continue;
    const end = lines.findIndex((l, j) => j > i && l.trim() === "```");
    if (end < 0) throw new Error(`unclosed sh block at README line ${i + 1}`);
    let before = i - 1;
    while (before >= 0 && lines[before]?.trim() === "") before--;
    blocks.push({ line: i + 1, code: lines.slice(i + 1, end).join("\n"), skipped: lines[before]?.trim() === SKIP });
    i = end;
  }
  return blocks;
}
