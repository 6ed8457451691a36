/**
 * Batched lease grants on a real Postgres server: concurrent batches from several pools (as from
 * several replicas) never grant a trial twice, and one batch shares workers fairly across jobs.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { seedTask, seedTinyModel } from '../../../test/orchestration/support/seed.js';
import { startPostgres, type TestPostgres } from '../../../test/support/postgres.js';
import { LocalBlobStore, openDatabase, type BaseModel, type Database, type Task } from '../../storage/index.js';
import { leaseTrials } from './lease-trial.js';
import { poolRunner } from './query-runner.js';

describe('leaseTrials', () => {
  let server: TestPostgres;
  let db: Database;
  let pools: pg.Pool[];
  const poolErrors: Error[] = [];
  let dir: string;
  let model: BaseModel;
  let task: Task;

  const createJob = async (trials: number): Promise<string> => {
    const job = await db.prisma.job.create({ data: { namespace: 'test', baseModelId: model.id, spec: { selection: {} }, createdBy: 'test' } });
    await db.prisma.trial.createMany({ data: Array.from({ length: trials }, (_, ordinal) => ({ jobId: job.id, taskId: task.id, ordinal })) });
    return job.id;
  };
  const registerWorkers = async (prefix: string, n: number): Promise<string[]> => {
    const ids = Array.from({ length: n }, (_, i) => `${prefix}-${i}`);
    await db.prisma.worker.createMany({ data: ids.map((id) => ({ id })) });
    return ids;
  };

  beforeAll(async () => {
    server = await startPostgres();
    const url = await server.newDatabase();
    db = await openDatabase({ url, migrate: true, poolSize: 2 });
    pools = Array.from({ length: 3 }, () => new pg.Pool({ connectionString: url, max: 4 }));
    // An idle client's error (e.g. the server stopping at teardown) must not crash the run.
    for (const p of pools) p.on('error', (err) => poolErrors.push(err));
    dir = await mkdtemp(path.join(os.tmpdir(), 'ptune-lease-'));
    model = await seedTinyModel(db.prisma, new LocalBlobStore(path.join(dir, 'blobs')));
    task = await seedTask(db.prisma);
  }, 120_000);
  afterEach(() => expect(poolErrors).toEqual([]));
  afterAll(async () => {
    for (const p of pools ?? []) await p.end();
    await db?.close();
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('never grants a trial twice when batches from several pools race', async () => {
    const TRIALS = 400;
    const jobId = await createJob(TRIALS);
    const granted: { trialId: string; epoch: number; workerId: string }[] = [];
    await Promise.all(
      Array.from({ length: 12 }, async (_, lane) => {
        const workers = await registerWorkers(`race-${lane}`, 8);
        const runner = poolRunner(pools[lane % pools.length]);
        for (;;) {
          const batch = await leaseTrials(runner, workers, 60_000);
          if (batch.length === 0) return;
          expect(new Set(batch.map((g) => g.workerId)).size).toBe(batch.length);
          granted.push(...batch);
        }
      }),
    );
    expect(granted).toHaveLength(TRIALS);
    expect(new Set(granted.map((g) => g.trialId)).size).toBe(TRIALS);
    expect(granted.every((g) => g.epoch === 1)).toBe(true);
    const rows = await db.prisma.trial.groupBy({ by: ['state', 'leaseEpoch'], where: { jobId }, _count: true });
    expect(rows).toEqual([{ state: 'RUNNING', leaseEpoch: 1, _count: TRIALS }]);
  }, 120_000);

  it('interleaves jobs within one batch, so a one-trial job is not starved by a sweep', async () => {
    const sweep = await createJob(50);
    const single = await createJob(1);
    const granted = await leaseTrials(poolRunner(pools[0]), await registerWorkers('fair', 4), 60_000);
    const jobs = granted.map((g) => g.jobId);
    expect(jobs).toContain(single);
    expect(jobs.filter((j) => j === sweep)).toHaveLength(3);
  }, 60_000);

  it('takes the next trials in order when another transaction holds the head of the queue', async () => {
    const jobId = await createJob(6);
    const holder = await pools[1].connect();
    try {
      await holder.query('BEGIN');
      const held = await holder.query<{ ordinal: number }>(
        `SELECT ordinal FROM trial WHERE job_id = $1 AND ordinal < 2 ORDER BY ordinal FOR UPDATE`,
        [jobId],
      );
      expect(held.rows.map((r) => r.ordinal)).toEqual([0, 1]);
      const granted = await leaseTrials(poolRunner(pools[0]), await registerWorkers('skip', 3), 60_000);
      const ordinals = await db.prisma.trial.findMany({ where: { id: { in: granted.map((g) => g.trialId) } }, select: { ordinal: true } });
      expect(ordinals.map((t) => t.ordinal).sort()).toEqual([2, 3, 4]);
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }
    const head = await db.prisma.trial.findMany({ where: { jobId, ordinal: { lt: 2 } }, select: { state: true, leaseEpoch: true } });
    expect(head).toEqual([
      { state: 'QUEUED', leaseEpoch: 0 },
      { state: 'QUEUED', leaseEpoch: 0 },
    ]);
  }, 60_000);

  it('grants nothing from a job that is no longer QUEUED or RUNNING', async () => {
    const jobId = await createJob(2);
    await db.prisma.job.update({ where: { id: jobId }, data: { state: 'FAILED' } });
    const granted = await leaseTrials(poolRunner(pools[0]), await registerWorkers('ended', 2), 60_000);
    expect(granted.filter((g) => g.jobId === jobId)).toEqual([]);
  }, 60_000);
});
