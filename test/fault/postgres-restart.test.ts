import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobState } from '../../services/gen/ptune/v1/training_pb.js';
import { startFaultEnv, type FaultEnv } from './support/fault-env.js';
import { expectOneVersionPerJobTask, submitJobs, waitForJobs } from './support/jobs.js';
import { waitFor } from './support/processes.js';

describe('restart Postgres mid-job (real processes, real Postgres)', () => {
  let env: FaultEnv;
  beforeAll(async () => {
    env = await startFaultEnv();
  });
  afterAll(() => env?.close());

  it('recovers: every job finishes with one version per task', async () => {
    const submitted = await submitJobs(env, { jobs: 2, taskCount: 1, learningRates: [0.01, 0.02, 0.03], steps: 300 });
    env.startWorker('a');
    env.startWorker('b');
    await waitFor(
      'trials running',
      async () => ((await env.db.prisma.trial.count({ where: { jobId: { in: submitted.jobIds }, state: 'RUNNING' } })) >= 1 ? true : undefined),
      120_000,
      env.logs,
    );
    await env.pg.restart();
    const jobs = await waitForJobs(env, submitted.jobIds);
    expect(jobs.map((j) => JobState[j.state]), env.logs()).toEqual(jobs.map(() => 'SUCCEEDED'));
    const check = await expectOneVersionPerJobTask(env, submitted);
    expect(check.problems).toEqual([]);
  });
});
