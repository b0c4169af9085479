// Small helpers: timing, percentiles, bounded concurrency.

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
export const now = () => performance.timeOrigin + performance.now();

export function summarize(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]);
  const mean = sorted.reduce((s, v) => s + v, 0) / (sorted.length || 1);
  return { n: sorted.length, p50: at(50), p99: at(99), mean, min: sorted[0] ?? NaN, max: sorted[sorted.length - 1] ?? NaN };
}

export async function mapLimit(items, limit, fn) {
  const out = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i], i);
      }
    }),
  );
  return out;
}

/**
 * Calls `fn(i)` for i in [0, count): paced at `rate` per second when given (each call starts on
 * schedule, whatever the previous ones are doing), else as fast as `concurrency` calls at once
 * allow. Resolves to the results in order.
 */
export async function drive(count, { rate, concurrency }, fn) {
  if (!rate) return mapLimit(Array.from({ length: count }), concurrency, (_, i) => fn(i));
  const started = now();
  const pending = [];
  for (let i = 0; i < count; i++) {
    const wait = started + (i * 1000) / rate - now();
    if (wait > 0) await sleep(wait);
    pending.push(fn(i));
  }
  return Promise.all(pending);
}
