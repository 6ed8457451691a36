import type { PrismaClient } from '../generated/client.js';

/**
 * Which of `keys` some row still references. This is the one place that lists every column holding
 * a blob key; a new blob-holding column must be added here or the sweeper will delete its blobs.
 */
export async function referencedBlobKeys(prisma: PrismaClient, keys: string[]): Promise<Set<string>> {
  if (keys.length === 0) return new Set();
  const rows = await prisma.$queryRaw<{ key: string }[]>`
    SELECT key FROM (
      SELECT blob_key AS key FROM prompt_version WHERE deleted_at IS NULL
      UNION ALL SELECT weights_blob_key FROM base_model
      UNION ALL SELECT blob_key FROM base_model_file
      UNION ALL SELECT blob_key FROM dataset
      UNION ALL SELECT checkpoint_key FROM trial WHERE checkpoint_key IS NOT NULL
      UNION ALL SELECT result_blob_key FROM trial WHERE result_blob_key IS NOT NULL
    ) AS refs
    WHERE key = ANY(${keys}::text[])`;
  return new Set(rows.map((r) => r.key));
}
