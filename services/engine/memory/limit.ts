/**
 * The memory a process may use (`--max-memory`): given as bytes or with a unit (12GiB, 512M,
 * 8GB), else the machine's memory or, if lower, the cgroup's limit (a container's).
 */
import { readFile } from 'node:fs/promises';
import os from 'node:os';

export interface MemoryLimit {
  bytes: number;
  /** where the figure comes from, for messages */
  origin: string;
}

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kib: 1024,
  kb: 1000,
  m: 1024 ** 2,
  mib: 1024 ** 2,
  mb: 1000 ** 2,
  g: 1024 ** 3,
  gib: 1024 ** 3,
  gb: 1000 ** 3,
  t: 1024 ** 4,
  tib: 1024 ** 4,
  tb: 1000 ** 4,
};

/** "12GiB" → 12·2³⁰; KiB/MiB/GiB/TiB and K/M/G/T are binary, KB/MB/GB/TB decimal; a bare number is bytes. */
export function parseByteSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = m ? UNITS[m[2].toLowerCase()] : undefined;
  if (!m || unit === undefined) {
    throw new Error(
      `"${text}" is not a size: give bytes or a number with a unit (KiB, MiB, GiB, TiB, K, M, G, T, KB, MB, GB, TB), e.g. 12GiB`,
    );
  }
  const bytes = Math.floor(Number(m[1]) * unit);
  if (bytes <= 0) throw new Error(`"${text}" is not a positive size`);
  return bytes;
}

/** 1.5 GiB, 320 MiB, 12 KiB */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
  if (bytes >= 1024 ** 2) return `${Math.round(bytes / 1024 ** 2)} MiB`;
  return `${Math.ceil(bytes / 1024)} KiB`;
}

/** cgroup v2 memory.max, then v1's limit_in_bytes; undefined when unlimited or absent */
async function cgroupLimit(): Promise<{ bytes: number; file: string } | undefined> {
  for (const file of ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes']) {
    const text = await readFile(file, 'utf8').catch(() => undefined);
    const bytes = text === undefined ? Number.NaN : Number(text.trim());
    if (Number.isSafeInteger(bytes) && bytes > 0) return { bytes, file };
  }
  return undefined;
}

/** `--max-memory` when given, else min(the machine's memory, the cgroup's limit). */
export async function memoryLimit(flag: string | number | undefined): Promise<MemoryLimit> {
  if (flag !== undefined) return { bytes: typeof flag === 'number' ? flag : parseByteSize(flag), origin: '--max-memory' };
  const machine = { bytes: os.totalmem(), origin: "the machine's memory" };
  const cgroup = await cgroupLimit();
  return cgroup && cgroup.bytes < machine.bytes ? { bytes: cgroup.bytes, origin: `the cgroup limit (${cgroup.file})` } : machine;
}
