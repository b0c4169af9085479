import type { Io } from "./io";

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/**
 * While `work` runs: a spinner with the elapsed time on stderr, only when stderr is a terminal
 * (scripts and pipes see nothing but the result).
 */
export async function withSpinner<T>(io: Io, label: string, work: Promise<T>): Promise<T> {
  if (!io.stderr.isTTY) return work;
  const started = Date.now();
  let frame = 0;
  const draw = () => io.stderr.write(`\r\u001b[K${FRAMES[frame++ % FRAMES.length]} ${label} ${((Date.now() - started) / 1000).toFixed(1)}s`);
  draw();
  const timer = setInterval(draw, 100);
  try {
    return await work;
  } finally {
    clearInterval(timer);
    io.stderr.write(`\r\u001b[K`);
  }
}
