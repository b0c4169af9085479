// 6. Memory: workerd RSS at rest, sampled peak and the kernel's peak, per request served.
import { client } from "../lib/http.mjs";

export function memorySection({ row, raw, memory }) {
  memory.sample();
  const peakRssKb = memory.peakSampledRssKb();
  const hwmKb = memory.hwmKb();
  const served = client.served;
  raw.memory = { idleRssKb: memory.idleRssKb, peakSampledRssKb: peakRssKb, vmHwmKb: hwmKb, samples: memory.samples.length, phases: memory.phases, requestsServed: served };
  row("6. Memory (workerd)", "RSS after start (idle, schema applied)", memory.idleRssKb / 1024, "MiB", 1, "itself");
  row("6. Memory (workerd)", "peak RSS sampled every 250 ms", peakRssKb / 1024, "MiB", peakRssKb / memory.idleRssKb, "idle RSS");
  row("6. Memory (workerd)", "VmHWM at the end (kernel peak)", hwmKb / 1024, "MiB", hwmKb / memory.idleRssKb, "idle RSS");
  row("6. Memory (workerd)", `peak growth per request served (${served} requests)`, (hwmKb - memory.idleRssKb) / served, "KiB", NaN, "-");
}
