import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobState } from '../../services/gen/ptune/v1/training_pb.js';
import { startFaultEnv, type FaultEnv } from './support/fault-env.js';
import { expectOneVersionPerJobTask, submitJobs, waitForJobs } from './support/jobs.js';
import { waitFor, withDeadline } from './support/processes.js';

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
      async () =>
        (await env.db.prisma.trial.count({ where: { jobId: { in: submitted.jobIds }, state: 'RUNNING' } })) >= 1 ? true : undefined,
      90_000,
      env.logs,
    );
    // each wait has its own deadline inside the test's, so a stall fails with the processes' logs
    await withDeadline('the Postgres restart', env.pg.restart(), 60_000, env.logs);
    const jobs = await waitForJobs(env, submitted.jobIds, 150_000);
    expect(
      jobs.map((j) => JobState[j.state]),
      env.logs(),
    ).toEqual(jobs.map(() => 'SUCCEEDED'));
    const check = await expectOneVersionPerJobTask(env, submitted);
    expect(check.problems).toEqual([]);
  }, 330_000);
});
