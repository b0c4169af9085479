/**
 * Reads a body stream up to `limit` bytes: the first `limit` bytes, and whether there was
 * more. `onOverflow` says what happens to the rest: "cancel" stops reading at once; "drain"
 * reads on (up to 4x the limit) so the sender can finish, since cancelling a request body
 * mid-upload can take the local runtime's connection down with the next, innocent request.
 */
export async function readUpTo(
  stream: ReadableStream<Uint8Array> | null,
  limit: number,
  onOverflow: "cancel" | "drain",
): Promise<{ bytes: Uint8Array; overflowed: boolean }> {
  if (!stream) return { bytes: new Uint8Array(0), overflowed: false };
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  let overflowed = false;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (total + value.byteLength > limit) {
      chunks.push(value.subarray(0, limit - total));
      overflowed = true;
      let seen = total + value.byteLength;
      total = limit;
      if (onOverflow === "drain") {
        while (seen < limit * 4) {
          const next = await reader.read();
          if (next.done) return { bytes: concat(chunks, total), overflowed };
          seen += next.value.byteLength;
        }
      }
      await reader.cancel();
      break;
    }
    chunks.push(value);
    total += value.byteLength;
  }
  return { bytes: concat(chunks, total), overflowed };
}

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}
