import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobState, TrialState } from '../../services/gen/ptune/v1/training_pb.js';
import { startFaultEnv, type FaultEnv } from './support/fault-env.js';
import { submitJobs, waitForJobs } from './support/jobs.js';
import { waitFor } from './support/processes.js';

describe('SIGTERM a worker mid-trial (real processes, real Postgres)', () => {
  let env: FaultEnv;
  beforeAll(async () => {
    env = await startFaultEnv();
  });
  afterAll(() => env?.close());

  it('writes a checkpoint, gives the lease back without using an attempt, and exits; the next worker resumes there', async () => {
    const submitted = await submitJobs(env, { jobs: 1, taskCount: 1, learningRates: [0.03], steps: 3000 });
    const [jobId] = submitted.jobIds;
    const trial = () => env.db.prisma.trial.findFirstOrThrow({ where: { jobId } });
    const worker = env.startWorker('terminated');
    const periodic = await waitFor('a first checkpoint', async () => (await trial()).checkpointStep ?? undefined, 120_000, env.logs);
    worker.process.kill('SIGTERM');
    expect(await worker.exited).toBe(0);

    const released = await trial();
    expect(released).toMatchObject({ state: 'QUEUED', attempts: 0, leaseEpoch: 1 });
    expect(released.checkpointStep).toBeGreaterThanOrEqual(periodic); // the checkpoint written on the way out (last completed step)
    expect(worker.output()).toContain('released (worker stopping)');

    env.startWorker('next');
    const [job] = await waitForJobs(env, [jobId]);
    expect(job.state, env.logs()).toBe(JobState.SUCCEEDED);
    expect(job.trials[0]).toMatchObject({ state: TrialState.SUCCEEDED, attempt: 1, workerId: 'next' });
    expect(env.logs()).toContain(`resuming from step ${released.checkpointStep}`);
  });
});
