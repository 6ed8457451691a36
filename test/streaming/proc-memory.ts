/** A process's resident memory from /proc/<pid>/status (Linux): current (VmRSS) and peak (VmHWM), in KiB. */
import { readFile, writeFile } from 'node:fs/promises';

export interface Memory {
  rssKb: number;
  hwmKb: number;
}

export async function readMemory(pid: number): Promise<Memory> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const field = (name: string): number => {
    const match = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status);
    if (!match) throw new Error(`/proc/${pid}/status has no ${name}`);
    return Number(match[1]);
  };
  return { rssKb: field('VmRSS'), hwmKb: field('VmHWM') };
}

/** Restarts the process's peak (VmHWM) from its current RSS. */
export async function resetPeak(pid: number): Promise<void> {
  await writeFile(`/proc/${pid}/clear_refs`, '5');
}
