/** What /proc says about a process (Linux): CPU used so far, peak RSS; and the local stack's pids. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { stackEnv } from "./stack.ts";

const ROOT = join(import.meta.dirname, "..", "..");

/** CPU seconds (user + system) a process has used so far, from /proc; undefined where unreadable. */
export function procCpuSeconds(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return undefined;
  }
}

/** Peak resident set size (VmHWM) of a live process, in MB; undefined where unreadable. */
export function procPeakRssMb(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

function pidFrom(file: string): number | undefined {
  try {
    return Number(readFileSync(file, "utf8").trim()) || undefined;
  } catch {
    return undefined;
  }
}

/** The emulator's pid, from the stack script's pid file for its port. */
export function motoPid(): number | undefined {
  const port = new URL(stackEnv().s3Endpoint).port;
  return pidFrom(join(ROOT, ".cache", "run", `moto-${port}.pid`));
}

/** The local OpenSearch's pid, from the stack script's state folder for its port. */
export function opensearchPid(): number | undefined {
  const port = new URL(stackEnv().opensearchUrl).port;
  return pidFrom(join(ROOT, ".cache", "state", `opensearch-${port}`, "opensearch.pid"));
}
