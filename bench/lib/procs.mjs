// Runtime process (workerd): memory and CPU, read from /proc.
import { readdirSync, readFileSync } from "node:fs";

export function listProcesses() {
  const out = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      const comm = stat.slice(stat.indexOf("(") + 1, close);
      const fields = stat.slice(close + 2).split(" ");
      out.push({ pid: Number(entry), comm, ppid: Number(fields[1]), utime: Number(fields[11]), stime: Number(fields[12]) });
    } catch {
      // The process went away.
    }
  }
  return out;
}

/** Every process descending from `root` (default: this Node process). */
export function findDescendants(root = process.pid) {
  const processes = listProcesses();
  const children = new Map();
  for (const p of processes) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const found = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift()) ?? []) {
      found.push(child);
      queue.push(child.pid);
    }
  }
  return found;
}

/** workerd processes descending from this Node process (Miniflare spawns one). */
export function findWorkerdPids() {
  return findDescendants().filter((p) => p.comm === "workerd").map((p) => p.pid);
}

export function statusKb(pid, field) {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) : NaN;
  } catch {
    return NaN;
  }
}

/** CPU seconds (user + system) used so far by the given pids. */
export function cpuSeconds(pids) {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // gone
    }
  }
  return ticks / 100; // USER_HZ is 100 on Linux
}
