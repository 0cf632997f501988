// CPU and memory figures read from /proc. Only one system runs at a time, so the CPU time of
// the whole PostgreSQL cluster (postmaster, backends, walwriter, checkpointer...) over a phase
// is that system's database cost. Exited backends are not lost: the postmaster reaps them, so
// their time lands in its cutime/cstime, which the sum includes.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';

let ticksPerSecond = null;
function clockTicks() {
  if (ticksPerSecond === null) {
    try {
      ticksPerSecond =
        Number(
          execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim(),
        ) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** Fields of /proc/<pid>/stat after the command name (which may contain spaces and parentheses). */
function statFields(pid) {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return text.slice(text.lastIndexOf(')') + 2).split(' ');
}

/** utime+stime+cutime+cstime of the postmaster and its children, in seconds; null when unknown. */
export function pgClusterCpuSeconds(postmasterPid) {
  if (!postmasterPid) return null;
  let ticks = 0;
  let found = false;
  for (const entry of readdirSync('/proc')) {
    if (entry.charCodeAt(0) < 48 || entry.charCodeAt(0) > 57) continue;
    let fields;
    try {
      fields = statFields(entry);
    } catch {
      continue; // the process exited while we looked
    }
    // fields[0] is the state, fields[1] the ppid; utime..cstime are stat fields 14..17.
    if (Number(entry) !== postmasterPid && Number(fields[1]) !== postmasterPid)
      continue;
    found = true;
    ticks +=
      Number(fields[11]) +
      Number(fields[12]) +
      Number(fields[13]) +
      Number(fields[14]);
  }
  return found ? ticks / clockTicks() : null;
}

/** This process's user+system CPU in seconds (getrusage: the utime+stime of /proc/self/stat, in µs). */
export function selfCpuSeconds() {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

/** Resets VmHWM so the next peakRssMb() covers only what follows (Linux >= 4.0). */
export function resetPeakRss() {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

/** VmHWM (peak resident set) of this process in MiB. */
export function peakRssMb() {
  const match = /VmHWM:\s+(\d+) kB/.exec(
    readFileSync('/proc/self/status', 'utf8'),
  );
  return match ? Number(match[1]) / 1024 : null;
}

/** A point in time for cpuBetween(). */
export function cpuMark(postmasterPid) {
  return {
    node: selfCpuSeconds(),
    pg: pgClusterCpuSeconds(postmasterPid),
    at: performance.now(),
  };
}

export function cpuBetween(start, end) {
  return {
    nodeSeconds: end.node - start.node,
    pgSeconds: start.pg === null || end.pg === null ? null : end.pg - start.pg,
    wallSeconds: (end.at - start.at) / 1000,
  };
}
