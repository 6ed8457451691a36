/** CPU time used so far by the Postgres server listening on `port` (postmaster, its children, and exited children), from /proc. */
import { readdir, readFile } from 'node:fs/promises';

const TICKS_PER_S = 100;

async function stat(pid: string): Promise<{ ppid: string; ownMs: number; childrenMs: number } | undefined> {
  try {
    const text = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const tick = (i: number): number => (Number(fields[i]) * 1000) / TICKS_PER_S;
    // fields after "(comm) ": state=0 ppid=1 … utime=11 stime=12 cutime=13 cstime=14
    return { ppid: fields[1], ownMs: tick(11) + tick(12), childrenMs: tick(13) + tick(14) };
  } catch {
    return undefined;
  }
}

export async function postgresCpuMs(port: number): Promise<number> {
  const pids = (await readdir('/proc')).filter((p) => /^\d+$/.test(p));
  let postmaster: string | undefined;
  for (const pid of pids) {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    const args = cmdline.split('\0');
    if (/postgres$/.test(args[0]) && args.includes('-p') && args[args.indexOf('-p') + 1] === String(port)) postmaster = pid;
  }
  if (!postmaster) return Number.NaN;
  const root = await stat(postmaster);
  let total = (root?.ownMs ?? 0) + (root?.childrenMs ?? 0);
  for (const pid of pids) {
    const s = await stat(pid);
    if (s?.ppid === postmaster) total += s.ownMs;
  }
  return total;
}
