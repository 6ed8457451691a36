import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InitMethod } from '../../services/gen/ptune/v1/common_pb.js';
import { JobState } from '../../services/gen/ptune/v1/training_pb.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import type { CoordinatorConfig } from '../../services/coordinator/index.js';
import { startCoordinatorHarness, type CoordinatorHarness } from './support/coordinator-harness.js';
import { promptBytes, sha256Hex, uploadDataset } from './support/protocol.js';
import { datasetText, seedTask, seedTinyModel } from './support/seed.js';

const TRIALS = 120;
const WORKERS = 24;

/** Replicas a and b of one coordinator over one fresh Postgres database, for the tests of the calling describe block. */
function twoReplicas(config: Partial<CoordinatorConfig>): { a: CoordinatorHarness; b: CoordinatorHarness } {
  const replicas = {} as { a: CoordinatorHarness; b: CoordinatorHarness };
  let pg: TestPostgres | undefined;
  beforeAll(async () => {
    pg = await startPostgres();
    const url = await pg.newDatabase();
    replicas.a = await startCoordinatorHarness({ databaseUrl: url, config });
    replicas.b = await startCoordinatorHarness({ databaseUrl: url, config });
  });
  afterAll(async () => {
    await replicas.a?.close();
    await replicas.b?.close();
    await pg?.stop();
  });
  return replicas;
}

describe('two coordinator replicas over one Postgres database', () => {
  const replicas = twoReplicas({ maintenanceIntervalMs: 100 });

  it('never grants one trial twice and registers exactly one version, with workers split across both', async () => {
    const { a, b } = replicas;
    // the replicas have separate blob folders here, so the result is stored in both
    const model = await seedTinyModel(a.db.prisma, a.blobs);
    await seedTinyModel(b.db.prisma, b.blobs, model.name);
    const task = await seedTask(a.db.prisma);
    const result = promptBytes(4, model.hiddenSize, 3);
    for (const h of [a, b]) await h.blobs.put(`prompt/${sha256Hex(result)}`, result, { sha256: sha256Hex(result) });
    const trainSha = await uploadDataset(a.training, datasetText(6));
    const evalSha = await uploadDataset(a.training, datasetText(3));
    const { job } = await a.training.trainPrompt({
      baseModel: model.name,
      tasks: [
        {
          task: { namespace: task.namespace, name: task.name },
          train: { source: { case: 'sha256', value: trainSha } },
          eval: { source: { case: 'sha256', value: evalSha } },
        },
      ],
      method: { numVirtualTokens: 4, init: { method: InitMethod.RANDOM } },
      optimizer: { steps: 5, batchSize: 2 },
      sweep: { learningRates: Array.from({ length: TRIALS }, (_, i) => (i + 1) / 1000) },
    });

    const grants: string[] = [];
    let completed = 0;
    await Promise.all(
      Array.from({ length: WORKERS }, async (_, i) => {
        const h = i % 2 === 0 ? a : b;
        const { workerId } = await h.workers.registerWorker({ name: `replica-worker-${i}` });
        while (completed < TRIALS) {
          const { lease } = await h.workers.leaseTrial({ workerId, waitTimeout: { nanos: 200_000_000 } });
          if (!lease) continue;
          grants.push(lease.leaseId);
          // complete through the other replica half of the time
          const other = i % 4 < 2 ? a : b;
          await other.workers.completeTrial({
            lease: { leaseId: lease.leaseId, epoch: lease.epoch },
            resultBlobSha256: sha256Hex(result),
            metrics: { eval_loss: Math.random() },
          });
          completed++;
        }
      }),
    );
    expect(grants).toHaveLength(TRIALS);
    expect(new Set(grants).size).toBe(TRIALS);
    let state = JobState.RUNNING;
    for (let i = 0; i < 100 && state === JobState.RUNNING; i++) {
      state = (await b.training.getJob({ jobId: job!.id })).job!.state;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(state).toBe(JobState.SUCCEEDED);
    expect(await a.db.prisma.promptVersion.count({ where: { jobId: job!.id } })).toBe(1);
    expect(await a.db.prisma.trial.count({ where: { jobId: job!.id, leaseEpoch: 1, attempts: 1, state: 'SUCCEEDED' } })).toBe(TRIALS);
  });
});

describe('work queued through one replica wakes idle workers on another', () => {
  // a fallback poll far longer than the lease wait: only a notification can deliver the work in time
  const replicas = twoReplicas({ leasePollMs: 600_000, maxLeaseWaitMs: 60_000 });

  it('a LeaseTrial waiting on B gets the trial of a job submitted through A', async () => {
    const { a, b } = replicas;
    const model = await seedTinyModel(a.db.prisma, a.blobs);
    const task = await seedTask(a.db.prisma);
    const trainSha = await uploadDataset(a.training, datasetText(6));
    const evalSha = await uploadDataset(a.training, datasetText(3));
    const { workerId } = await b.workers.registerWorker({ name: 'idle-on-b' });
    const waiting = b.workers.leaseTrial({ workerId, waitTimeout: { seconds: 30n } });
    // let the call reach its wait before the job exists (if it were later, it would find the trial at once)
    await new Promise((resolve) => setTimeout(resolve, 300));
    const { job } = await a.training.trainPrompt({
      baseModel: model.name,
      tasks: [
        {
          task: { namespace: task.namespace, name: task.name },
          train: { source: { case: 'sha256', value: trainSha } },
          eval: { source: { case: 'sha256', value: evalSha } },
        },
      ],
      method: { numVirtualTokens: 4, init: { method: InitMethod.RANDOM } },
      optimizer: { steps: 5, batchSize: 2 },
    });
    // The call's own deadline (30 s) ends with one last lease attempt, which would find the trial too:
    // it must instead be woken long before that, by the notification of A's insert.
    const woken = await Promise.race([waiting, new Promise<'deadline'>((resolve) => setTimeout(() => resolve('deadline'), 15_000))]);
    expect(woken).not.toBe('deadline');
    const { lease } = await waiting;
    expect(lease).toBeDefined();
    const trial = await a.db.prisma.trial.findUniqueOrThrow({ where: { id: lease!.leaseId } });
    expect(trial).toMatchObject({ jobId: job!.id, leaseOwner: workerId, state: 'RUNNING' });

    // a trial going back to the queue through A (a released lease) wakes the next waiter on B
    const { workerId: second } = await b.workers.registerWorker({ name: 'second-on-b' });
    const next = b.workers.leaseTrial({ workerId: second, waitTimeout: { seconds: 30n } });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await a.workers.releaseLease({ lease: { leaseId: lease!.leaseId, epoch: lease!.epoch }, reason: 'test' });
    const requeued = await Promise.race([next, new Promise<'deadline'>((resolve) => setTimeout(() => resolve('deadline'), 15_000))]);
    expect(requeued).not.toBe('deadline');
    expect((await next).lease?.leaseId).toBe(lease!.leaseId);
  }, 60_000);
});
