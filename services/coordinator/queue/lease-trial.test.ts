/**
 * Batched lease grants on a real Postgres server: concurrent batches from several pools (as from
 * several replicas) never grant a trial twice, and one batch shares workers fairly across jobs.
 */
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { seedTask, seedTinyModel } from '../../../test/orchestration/support/seed.js';
import { usePostgresPools } from '../../../test/support/postgres-pools.js';
import { LocalBlobStore, type BaseModel, type Task } from '../../storage/index.js';
import { leaseTrials } from './lease-trial.js';
import { poolRunner } from './query-runner.js';

describe('leaseTrials', () => {
  const env = usePostgresPools({ pools: 3, maxPerPool: 4, prismaPoolSize: 2 });
  let model: BaseModel;
  let task: Task;

  const createJob = async (trials: number): Promise<string> => {
    const job = await env.db.prisma.job.create({
      data: { namespace: 'test', baseModelId: model.id, spec: { selection: {} }, createdBy: 'test' },
    });
    await env.db.prisma.trial.createMany({
      data: Array.from({ length: trials }, (_, ordinal) => ({ jobId: job.id, taskId: task.id, ordinal })),
    });
    return job.id;
  };
  const registerWorkers = async (prefix: string, n: number): Promise<string[]> => {
    const ids = Array.from({ length: n }, (_, i) => `${prefix}-${i}`);
    await env.db.prisma.worker.createMany({ data: ids.map((id) => ({ id })) });
    return ids;
  };

  beforeAll(async () => {
    model = await seedTinyModel(env.db.prisma, new LocalBlobStore(path.join(env.dir, 'blobs')));
    task = await seedTask(env.db.prisma);
  });

  it('never grants a trial twice when batches from several pools race', async () => {
    const TRIALS = 400;
    const jobId = await createJob(TRIALS);
    const granted: { trialId: string; epoch: number; workerId: string }[] = [];
    await Promise.all(
      Array.from({ length: 12 }, async (_, lane) => {
        const workers = await registerWorkers(`race-${lane}`, 8);
        const runner = poolRunner(env.pools[lane % env.pools.length]);
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
    const rows = await env.db.prisma.trial.groupBy({ by: ['state', 'leaseEpoch'], where: { jobId }, _count: true });
    expect(rows).toEqual([{ state: 'RUNNING', leaseEpoch: 1, _count: TRIALS }]);
  }, 120_000);

  it('interleaves jobs within one batch, so a one-trial job is not starved by a sweep', async () => {
    const sweep = await createJob(50);
    const single = await createJob(1);
    const granted = await leaseTrials(poolRunner(env.pools[0]), await registerWorkers('fair', 4), 60_000);
    const jobs = granted.map((g) => g.jobId);
    expect(jobs).toContain(single);
    expect(jobs.filter((j) => j === sweep)).toHaveLength(3);
  }, 60_000);

  it('takes the next trials in order when another transaction holds the head of the queue', async () => {
    const jobId = await createJob(6);
    const holder = await env.pools[1].connect();
    try {
      await holder.query('BEGIN');
      const held = await holder.query<{ ordinal: number }>(
        `SELECT ordinal FROM trial WHERE job_id = $1 AND ordinal < 2 ORDER BY ordinal FOR UPDATE`,
        [jobId],
      );
      expect(held.rows.map((r) => r.ordinal)).toEqual([0, 1]);
      const granted = await leaseTrials(poolRunner(env.pools[0]), await registerWorkers('skip', 3), 60_000);
      const ordinals = await env.db.prisma.trial.findMany({
        where: { id: { in: granted.map((g) => g.trialId) } },
        select: { ordinal: true },
      });
      expect(ordinals.map((t) => t.ordinal).sort()).toEqual([2, 3, 4]);
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }
    const head = await env.db.prisma.trial.findMany({ where: { jobId, ordinal: { lt: 2 } }, select: { state: true, leaseEpoch: true } });
    expect(head).toEqual([
      { state: 'QUEUED', leaseEpoch: 0 },
      { state: 'QUEUED', leaseEpoch: 0 },
    ]);
  }, 60_000);

  it('grants nothing from a job that is no longer QUEUED or RUNNING', async () => {
    const jobId = await createJob(2);
    await env.db.prisma.job.update({ where: { id: jobId }, data: { state: 'FAILED' } });
    const granted = await leaseTrials(poolRunner(env.pools[0]), await registerWorkers('ended', 2), 60_000);
    expect(granted.filter((g) => g.jobId === jobId)).toEqual([]);
  }, 60_000);
});
