import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobState } from '../../services/gen/ptune/v1/training_pb.js';
import { startFaultEnv, type FaultEnv } from './support/fault-env.js';
import { expectOneVersionPerJobTask, submitJobs, waitForJobs } from './support/jobs.js';
import { waitFor } from './support/processes.js';

describe('kill -9 the coordinator mid-job and restart it (real processes, real Postgres)', () => {
  let env: FaultEnv;
  beforeAll(async () => {
    env = await startFaultEnv();
  });
  afterAll(() => env?.close());

  it('finishes every job with exactly one version per task, none missing', async () => {
    const submitted = await submitJobs(env, { jobs: 3, taskCount: 2, learningRates: [0.01, 0.03], steps: 300 });
    env.startWorker('a');
    env.startWorker('b');
    // kill once some trials are done and others are running
    await waitFor(
      'a finished trial while others still run',
      async () => {
        const done = await env.db.prisma.trial.count({ where: { jobId: { in: submitted.jobIds }, state: 'SUCCEEDED' } });
        const running = await env.db.prisma.trial.count({ where: { jobId: { in: submitted.jobIds }, state: 'RUNNING' } });
        return done >= 1 && running >= 1 ? true : undefined;
      },
      120_000,
      env.logs,
    );
    await env.coordinator.kill9();
    await new Promise((r) => setTimeout(r, 1500));
    await env.startCoordinator();

    const jobs = await waitForJobs(env, submitted.jobIds);
    expect(
      jobs.map((j) => JobState[j.state]),
      env.logs(),
    ).toEqual(jobs.map(() => 'SUCCEEDED'));
    const check = await expectOneVersionPerJobTask(env, submitted);
    expect(check.problems).toEqual([]);
    expect(check.versions).toBe(submitted.jobIds.length * submitted.tasks.length);
  });
});
