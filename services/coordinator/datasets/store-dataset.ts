import { createHash } from 'node:crypto';
import { contentKey } from '../../storage/index.js';
import type { CoordinatorContext } from '../context.js';
import { parseDataset } from './parse-dataset.js';

export interface StoredDataset {
  sha256: string;
  blobKey: string;
  exampleCount: number;
  sizeBytes: number;
  createdAt: Date;
  created: boolean;
}

/**
 * Validates a JSONL dataset (every line) and stores it content-addressed: blob first (verified by
 * sha256), then the row. Storing identical content again returns the existing row.
 */
export async function storeDataset(ctx: CoordinatorContext, bytes: Uint8Array, name: string, createdBy: string): Promise<StoredDataset> {
  const examples = parseDataset(bytes, name);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const blobKey = contentKey('dataset', sha256);
  await ctx.blobs.put(blobKey, bytes, { sha256 });
  const rows = await ctx.prisma.$queryRaw<{ createdAt: Date; created: boolean }[]>`
    INSERT INTO dataset (sha256, blob_key, lines, bytes, created_by)
    VALUES (${sha256}, ${blobKey}, ${examples.length}, ${BigInt(bytes.length)}, ${createdBy})
    ON CONFLICT (sha256) DO UPDATE SET sha256 = EXCLUDED.sha256
    RETURNING created_at AS "createdAt", (xmax = 0) AS created`;
  return {
    sha256,
    blobKey,
    exampleCount: examples.length,
    sizeBytes: bytes.length,
    createdAt: rows[0].createdAt,
    created: rows[0].created,
  };
}
