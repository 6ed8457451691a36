import { createHash } from 'node:crypto';
import { mkdtemp, rm, utimes } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type TestPostgres } from '../../../test/support/postgres.js';
import { seedBaseModel, seedTask, versionData } from '../../../test/support/storage-fixtures.js';
import { openDatabase, type Database } from '../database.js';
import { createPromptVersion } from '../versions/create-prompt-version.js';
import { contentKey, type BlobKind } from './blob-key.js';
import { LocalBlobStore } from './local-blob-store.js';
import { sweepOrphanBlobs } from './sweep-orphan-blobs.js';

const HOUR = 3_600_000;
let postgres: TestPostgres;
let db: Database;
let root: string;

beforeAll(async () => {
  postgres = await startPostgres();
  db = await openDatabase({ url: await postgres.newDatabase(), migrate: true });
  root = await mkdtemp(path.join(os.tmpdir(), 'ptune-sweep-'));
});
afterAll(async () => {
  await db?.close();
  await postgres?.stop();
  await rm(root, { recursive: true, force: true });
});

describe('sweepOrphanBlobs', () => {
  it('deletes only blobs that nothing references and that are older than the grace period', async () => {
    const store = new LocalBlobStore(root);
    const put = async (kind: BlobKind, text: string, ageMs: number): Promise<string> => {
      const bytes = new TextEncoder().encode(text);
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      const key = contentKey(kind, sha256);
      await store.put(key, bytes, { sha256 });
      const when = new Date(Date.now() - ageMs);
      await utimes(path.join(root, key), when, when);
      return key;
    };
    const { prisma } = db;

    const weights = await put('model', 'weights', 2 * HOUR);
    const model = await seedBaseModel(prisma, { weightsBlobKey: weights });
    const task = await seedTask(prisma);
    const promptKey = await put('prompt', 'live prompt', 2 * HOUR);
    await createPromptVersion(prisma, versionData(task, model, { blobKey: promptKey, sha256: promptKey.split('/')[1] }));
    const tombstonedKey = await put('prompt', 'deleted prompt', 2 * HOUR);
    const tombstoned = await createPromptVersion(
      prisma,
      versionData(task, model, { blobKey: tombstonedKey, sha256: tombstonedKey.split('/')[1] }),
    );
    await prisma.promptVersion.update({ where: { id: tombstoned.version.id }, data: { deletedAt: new Date(), deletedBy: 'test' } });
    const datasetKey = await put('dataset', 'dataset', 2 * HOUR);
    await prisma.dataset.create({
      data: { sha256: datasetKey.split('/')[1], blobKey: datasetKey, lines: 1, bytes: 7n, createdBy: 'test' },
    });
    const checkpointKey = await put('checkpoint', 'checkpoint', 2 * HOUR);
    const resultKey = await put('prompt', 'trial result', 2 * HOUR);
    const job = await prisma.job.create({ data: { namespace: 'test', baseModelId: model.id, spec: {}, createdBy: 'test' } });
    await prisma.trial.create({ data: { jobId: job.id, taskId: task.id, ordinal: 0, checkpointKey, resultBlobKey: resultKey } });
    const orphanOld = await put('prompt', 'orphan, old', 2 * HOUR);
    const orphanYoung = await put('prompt', 'orphan, being registered right now', 1000);

    const dry = await sweepOrphanBlobs(prisma, store, { graceMs: HOUR, dryRun: true });
    expect(dry.deleted.sort()).toEqual([orphanOld, tombstonedKey].sort());
    expect(await store.has(orphanOld)).toBe(true);

    const result = await sweepOrphanBlobs(prisma, store, { graceMs: HOUR });
    expect(result.scanned).toBe(8);
    expect(result.deleted.sort()).toEqual([orphanOld, tombstonedKey].sort());
    for (const kept of [weights, promptKey, datasetKey, checkpointKey, resultKey, orphanYoung]) expect(await store.has(kept)).toBe(true);
    for (const gone of [orphanOld, tombstonedKey]) expect(await store.has(gone)).toBe(false);

    // Past its grace period, the young orphan goes too.
    const later = await sweepOrphanBlobs(prisma, store, { graceMs: HOUR, now: new Date(Date.now() + 2 * HOUR) });
    expect(later.deleted).toEqual([orphanYoung]);
  });

  it('refuses a negative grace period', async () => {
    await expect(sweepOrphanBlobs(db.prisma, new LocalBlobStore(root), { graceMs: -1 })).rejects.toThrow(/graceMs/);
  });
});
