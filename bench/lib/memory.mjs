// workerd's memory: RSS sampled every 250 ms, per-section snapshots, the kernel's peak (VmHWM).
import { client } from "./http.mjs";
import { statusKb } from "./procs.mjs";

export function memoryMonitor() {
  let sampler;
  const rssKb = () => client.workerdPids.reduce((s, pid) => s + statusKb(pid, "VmRSS"), 0);
  const memory = {
    samples: [],
    phases: [],
    idleRssKb: NaN,
    sample() {
      for (const pid of client.workerdPids) memory.samples.push({ at: Date.now(), pid, rssKb: statusKb(pid, "VmRSS") });
    },
    /** Starts sampling; the RSS now is the idle baseline. */
    start() {
      memory.sample();
      memory.idleRssKb = rssKb();
      sampler = setInterval(memory.sample, 250);
      sampler.unref();
    },
    stop: () => clearInterval(sampler),
    /** RSS after a named section. */
    phase: (name) => memory.phases.push({ after: name, rssMiB: rssKb() / 1024 }),
    peakSampledRssKb: () => Math.max(...memory.samples.map((s) => s.rssKb).filter(Number.isFinite)),
    hwmKb: () => client.workerdPids.reduce((s, pid) => s + statusKb(pid, "VmHWM"), 0),
  };
  return memory;
}
