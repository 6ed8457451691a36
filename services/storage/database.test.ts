import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type TestPostgres } from '../../test/support/postgres.js';
import { seedBaseModel, seedTask, sha256Hex, versionData } from '../../test/support/storage-fixtures.js';
import { openDatabase, type Database } from './database.js';
import { createPromptVersion } from './versions/create-prompt-version.js';

let postgres: TestPostgres;
const tempDirs: string[] = [];

beforeAll(async () => {
  postgres = await startPostgres();
});
afterAll(async () => {
  await postgres?.stop();
  await Promise.all(tempDirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ptune-db-'));
  tempDirs.push(dir);
  return dir;
}

const backends = [
  { name: 'Postgres', open: async () => openDatabase({ url: await postgres.newDatabase(), migrate: true }) },
  { name: 'embedded PGlite', open: async () => openDatabase({ dataDir: await tempDir() }) },
];

describe.each(backends)('generated client on $name', (backend) => {
  it('creates and reads back every model', async () => {
    const db: Database = await backend.open();
    try {
      const { prisma } = db;
      const model = await seedBaseModel(prisma);
      const task = await seedTask(prisma);
      const { version: v1 } = await createPromptVersion(prisma, versionData(task, model));
      const { version: v2 } = await createPromptVersion(
        prisma,
        versionData(task, model, {
          method: 'PREFIX_TUNING',
          initMethod: 'PARENT',
          initText: null,
          parentVersionId: v1.id,
          shape: [2, 5, 8, 8, 8],
        }),
      );
      const alias = await prisma.alias.create({ data: { taskId: task.id, name: 'production', versionId: v1.id, updatedBy: 'test' } });
      await prisma.aliasEvent.create({
        data: { taskId: task.id, aliasName: 'production', fromVersion: null, toVersion: 1, actor: 'test' },
      });
      const job = await prisma.job.create({
        data: {
          namespace: 'test',
          idempotencyKey: 'k1',
          baseModelId: model.id,
          spec: { tasks: [task.name], steps: 300 },
          createdBy: 'test',
        },
      });
      await prisma.worker.create({ data: { id: 'worker-1', capabilities: { threads: 2, ep: ['cpu'] } } });
      const trial = await prisma.trial.create({
        data: {
          jobId: job.id,
          taskId: task.id,
          ordinal: 0,
          sweepPoint: { lr: 0.03 },
          state: 'RUNNING',
          leaseOwner: 'worker-1',
          leaseEpoch: 1,
          leaseExpiresAt: new Date(Date.now() + 30_000),
        },
      });
      const event = await prisma.jobEvent.create({
        data: { jobId: job.id, jobSeq: 1, trialId: trial.id, type: 'metrics', payload: { step: 10, loss: 2.5 } },
      });
      const datasetSha = sha256Hex('{"text":"hello"}\n');
      await prisma.dataset.create({
        data: { sha256: datasetSha, blobKey: `dataset/${datasetSha}`, lines: 1, bytes: 17n, createdBy: 'test' },
      });

      expect(v1.version).toBe(1);
      expect(v2.version).toBe(2);
      const read = await prisma.promptVersion.findUniqueOrThrow({
        where: { taskId_version: { taskId: task.id, version: 2 } },
        include: { parentVersion: true, task: true, baseModel: true },
      });
      expect(read.shape).toEqual([2, 5, 8, 8, 8]);
      expect(read.method).toBe('PREFIX_TUNING');
      expect(read.parentVersion?.version).toBe(1);
      expect(read.baseModel.weightsSizeBytes).toBe(1_185_376n);
      expect(read.hyperparameters).toEqual({ lr: 0.03, steps: 300 });
      expect(await prisma.alias.findUniqueOrThrow({ where: { taskId_name: { taskId: task.id, name: 'production' } } })).toMatchObject({
        versionId: v1.id,
        updatedAt: alias.updatedAt,
      });
      expect(await prisma.aliasEvent.count({ where: { taskId: task.id } })).toBe(1);
      expect(
        await prisma.job.findUniqueOrThrow({ where: { namespace_idempotencyKey: { namespace: 'test', idempotencyKey: 'k1' } } }),
      ).toMatchObject({
        state: 'QUEUED',
        spec: { tasks: [task.name], steps: 300 },
      });
      expect(await prisma.trial.findUniqueOrThrow({ where: { id: trial.id }, include: { worker: true } })).toMatchObject({
        state: 'RUNNING',
        leaseEpoch: 1,
        attempts: 0,
        worker: { capabilities: { threads: 2, ep: ['cpu'] } },
      });
      expect(typeof event.seq).toBe('bigint');
      expect((await prisma.dataset.findUniqueOrThrow({ where: { sha256: datasetSha } })).bytes).toBe(17n);
    } finally {
      await db.close();
    }
  });

  it('refuses to delete a version an alias points to, and duplicate request ids return the first version', async () => {
    const db = await backend.open();
    try {
      const { prisma } = db;
      const model = await seedBaseModel(prisma);
      const task = await seedTask(prisma);
      const first = await createPromptVersion(prisma, versionData(task, model, { requestId: 'req-1' }));
      const again = await createPromptVersion(prisma, versionData(task, model, { requestId: 'req-1' }));
      expect(first.created).toBe(true);
      expect(again).toEqual({ version: first.version, created: false });
      await prisma.alias.create({ data: { taskId: task.id, name: 'staging', versionId: first.version.id, updatedBy: 'test' } });
      await expect(prisma.promptVersion.delete({ where: { id: first.version.id } })).rejects.toThrow();
      expect(await prisma.promptVersion.count({ where: { taskId: task.id } })).toBe(1);
    } finally {
      await db.close();
    }
  });
});

describe('embedded database', () => {
  it('keeps committed data across close and reopen of the same data directory, and is used by one opener at a time', async () => {
    const dataDir = await tempDir();
    const db = await openDatabase({ dataDir });
    const task = await seedTask(db.prisma);
    await expect(openDatabase({ dataDir })).rejects.toThrow(/already open in this process/);
    await db.close();

    const reopened = await openDatabase({ dataDir });
    try {
      expect(reopened.embedded).toBe(true);
      expect(await reopened.prisma.task.findUnique({ where: { id: task.id } })).toEqual(task);
    } finally {
      await reopened.close();
    }
  });
});

describe('embedded PGlite statistics', () => {
  it('are refreshed by the periodic ANALYZE (PGlite has no autovacuum), so the planner sees real row counts', async () => {
    const db = await openDatabase({ dataDir: await tempDir(), analyzeEveryMs: 50 });
    try {
      await db.prisma.$executeRawUnsafe('CREATE TABLE analyze_probe (id int PRIMARY KEY)');
      await db.prisma.$executeRawUnsafe('INSERT INTO analyze_probe SELECT g FROM generate_series(1, 5000) g');
      const rows = async (): Promise<number> =>
        (await db.prisma.$queryRawUnsafe<{ n: number }[]>(`SELECT reltuples::int AS n FROM pg_class WHERE relname = 'analyze_probe'`))[0]!
          .n;
      await expect.poll(rows, { timeout: 30_000, interval: 50 }).toBe(5000);
    } finally {
      await db.close();
    }
  });
});
