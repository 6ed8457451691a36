import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobState, TrialState } from '../../services/gen/ptune/v1/training_pb.js';
import { WorkerProtocolService } from '../../services/gen/ptune/v1/worker_pb.js';
import { createClient, createGrpcTransport } from '../../services/grpc/index.js';
import { promptBytes, putBlob, rpcError } from '../orchestration/support/protocol.js';
import { startFaultEnv, type FaultEnv } from './support/fault-env.js';
import { expectOneVersionPerJobTask, submitJobs, waitForJobs } from './support/jobs.js';
import { waitFor } from './support/processes.js';

describe('fencing with real processes (real Postgres)', () => {
  let env: FaultEnv;
  beforeAll(async () => {
    env = await startFaultEnv();
  });
  afterAll(() => env?.close());

  const trialOf = async (jobId: string) => env.db.prisma.trial.findFirstOrThrow({ where: { jobId } });

  it("refuses a fenced-out worker's completion; the worker that took over registers the version", async () => {
    const submitted = await submitJobs(env, { jobs: 1, taskCount: 1, learningRates: [0.03], steps: 50 });
    const [jobId] = submitted.jobIds;
    const transport = createGrpcTransport(env.address);
    const ghost = createClient(WorkerProtocolService, transport);
    try {
      const { workerId } = await ghost.registerWorker({ name: 'ghost' });
      const lease = (await ghost.leaseTrial({ workerId })).lease!;
      const token = { leaseId: lease.leaseId, epoch: lease.epoch };
      const model = await env.db.prisma.baseModel.findFirstOrThrow();
      const prompt = await putBlob(ghost, token, 'prompt', promptBytes(4, model.hiddenSize, 9));
      // the ghost stops heartbeating; a real worker takes the trial over once the lease expires
      env.startWorker('taker');
      await waitFor(
        'the trial to be taken over',
        async () => ((await trialOf(jobId)).leaseEpoch === 2 ? true : undefined),
        60_000,
        env.logs,
      );
      const refused = await rpcError(
        ghost.completeTrial({ lease: token, resultBlobSha256: prompt.slice('prompt/'.length), metrics: { eval_loss: 0 } }),
      );
      expect(refused.code).toBe(grpc.status.FAILED_PRECONDITION);
      expect(refused.message).toContain('lease was taken over');
      const [job] = await waitForJobs(env, [jobId]);
      expect(job.state, env.logs()).toBe(JobState.SUCCEEDED);
      expect(job.trials[0]).toMatchObject({ state: TrialState.SUCCEEDED, workerId: 'taker', attempt: 2 });
      const version = await env.db.prisma.promptVersion.findFirstOrThrow({ where: { jobId } });
      expect(version.blobKey).not.toBe(prompt); // the ghost's (epoch-1) result was never used
      expect((await expectOneVersionPerJobTask(env, submitted)).problems).toEqual([]);
      // a late call of the ghost is refused too
      expect((await rpcError(ghost.reportProgress({ lease: token, steps: [{ step: 1, loss: 1 }] }))).code).toBe(
        grpc.status.FAILED_PRECONDITION,
      );
    } finally {
      transport.close();
    }
  });

  it('a worker paused past its lease (SIGSTOP) is revoked when it wakes; the job finishes once, on the other worker', async () => {
    await Promise.all(env.workers.map((w) => w.kill9()));
    const submitted = await submitJobs(env, { jobs: 1, taskCount: 1, learningRates: [0.03], steps: 3000 });
    const [jobId] = submitted.jobIds;
    const sleeper = env.startWorker('sleeper');
    await waitFor('a checkpoint', async () => ((await trialOf(jobId)).checkpointStep ? true : undefined), 120_000, env.logs);
    sleeper.process.kill('SIGSTOP');
    env.startWorker('awake');
    await waitFor(
      'the trial to be taken over',
      async () => ((await trialOf(jobId)).leaseOwner === 'awake' ? true : undefined),
      60_000,
      env.logs,
    );
    sleeper.process.kill('SIGCONT');
    await waitFor('the sleeper to notice', async () => (sleeper.output().includes('lease lost') ? true : undefined), 30_000, env.logs);
    const [job] = await waitForJobs(env, [jobId]);
    expect(job.state, env.logs()).toBe(JobState.SUCCEEDED);
    expect(job.trials[0]).toMatchObject({ workerId: 'awake', attempt: 2 });
    expect((await expectOneVersionPerJobTask(env, submitted)).problems).toEqual([]);
  });
});
