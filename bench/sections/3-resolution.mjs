// 3. Vault resolution through the bench Worker (same D1): resolveTokens() with 0, 1, 3, 10 references.
import { mapLimit } from "../lib/util.mjs";

/** Returns the baselines section 5 reuses: the no-op round trip and one D1 query. */
export async function resolutionSection({ row, raw, log, memory, teams, benchWorker }) {
  const { interleaved, inWorker } = benchWorker;
  log("3. vault resolution via the bench Worker");
  const resolveTeam = await teams.createTeam("pro", "bench resolve");
  const resolveTokens = await mapLimit(Array.from({ length: 10 }), 4, (_, i) => teams.createToken(resolveTeam, `resolve ${i}`));
  const refCounts = [0, 1, 3, 10];
  const refQuery = (refs) => `team=${resolveTeam.id}&ids=${resolveTokens.slice(0, refs).join(",")}`;
  const [noop, d1, ...resolveRtt] = await interleaved(["/noop", `/d1?id=${resolveTokens[0]}`, ...refCounts.map((k) => `/resolve?${refQuery(k)}`)]);
  const noopInWorker = await inWorker("op=noop");
  const d1InWorker = await inWorker(`op=d1&id=${resolveTokens[0]}`);
  raw.resolution = { noop, noopInWorker, d1, d1InWorker, byRefs: {} };
  row("3. Vault resolution", "bench Worker no-op round trip p50", noop.p50, "ms", 1, "itself");
  row("3. Vault resolution", "one D1 query (PK lookup) round trip p50", d1.p50, "ms", d1.p50 / noop.p50, "no-op round trip p50");
  row("3. Vault resolution", "one D1 query in-Worker", d1InWorker, "ms", 1, "itself (the D1 unit)");
  const byRefs = {};
  for (const [i, refs] of refCounts.entries()) {
    const rtt = resolveRtt[i];
    const worker = await inWorker(`op=resolve&${refQuery(refs)}`);
    byRefs[refs] = { rtt, inWorker: worker };
    row("3. Vault resolution", `resolve ${refs} refs round trip p50`, rtt.p50, "ms", rtt.p50 / noop.p50, "no-op round trip p50");
    row("3. Vault resolution", `resolve ${refs} refs round trip p99`, rtt.p99, "ms", rtt.p99 / noop.p99, "no-op round trip p99");
    row("3. Vault resolution", `resolve ${refs} refs in-Worker`, worker, "ms", worker / d1InWorker, "one D1 query in-Worker");
  }
  raw.resolution.byRefs = byRefs;
  memory.phase("3. resolution");
  const perRefRtt = (byRefs[10].rtt.p50 - byRefs[1].rtt.p50) / 9;
  const perRefWorker = (byRefs[10].inWorker - byRefs[1].inWorker) / 9;
  row("3. Vault resolution", "per extra reference (p50(10)-p50(1))/9, round trip", perRefRtt, "ms", perRefRtt / (d1.p50 - noop.p50), "one D1 query (round trip p50 - no-op p50)");
  row("3. Vault resolution", "per extra reference, in-Worker (10 refs - 1 ref)/9", perRefWorker, "ms", perRefWorker / d1InWorker, "one D1 query in-Worker");
  return { noop, d1, d1InWorker };
}
