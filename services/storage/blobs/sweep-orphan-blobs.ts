import type { PrismaClient } from '../generated/client.js';
import type { BlobStore } from './blob-store.js';
import { referencedBlobKeys } from './referenced-keys.js';

export interface SweepOptions {
  /** Blobs modified less than this long ago are kept: their row may be about to be inserted. */
  graceMs: number;
  /** Only consider keys under this prefix. */
  prefix?: string;
  /** Report what would be deleted without deleting. */
  dryRun?: boolean;
  now?: Date;
}

export interface SweepResult {
  scanned: number;
  deleted: string[];
}

const BATCH = 500;

/** Deletes blobs that no row references and that are older than the grace period. */
export async function sweepOrphanBlobs(prisma: PrismaClient, store: BlobStore, options: SweepOptions): Promise<SweepResult> {
  if (!(options.graceMs >= 0)) throw new Error(`sweepOrphanBlobs: graceMs must be >= 0, got ${options.graceMs}`);
  const cutoff = (options.now ?? new Date()).getTime() - options.graceMs;
  const result: SweepResult = { scanned: 0, deleted: [] };
  let batch: string[] = [];
  const flush = async (): Promise<void> => {
    const referenced = await referencedBlobKeys(prisma, batch);
    for (const key of batch) {
      if (referenced.has(key)) continue;
      if (options.dryRun !== true) await store.delete(key);
      result.deleted.push(key);
    }
    batch = [];
  };
  for await (const blob of store.list(options.prefix)) {
    result.scanned++;
    if (blob.lastModified.getTime() > cutoff) continue;
    batch.push(blob.key);
    if (batch.length >= BATCH) await flush();
  }
  await flush();
  return result;
}
