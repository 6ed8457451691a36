import { readFileSync } from 'node:fs';

/**
 * This process's peak resident set in MB: the high-water mark of its own memory map (VmHWM).
 * Not getrusage's maxrss, which Linux carries over from the forked parent at exec: a child of a
 * bench that had just generated a 1.1B model in memory reported the parent's 4.5 GB as its own peak.
 */
export function peakRssMb(): number {
  try {
    const kb = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    if (kb !== undefined) return Number(kb) / 1024;
  } catch {
    // no /proc (not Linux): maxrss, which is this process's own there
  }
  return process.resourceUsage().maxRSS / 1024;
}
