import { randomUUID } from 'node:crypto';
import { InitMethod } from '../../../services/gen/ptune/v1/common_pb.js';
import { JobState, type Job } from '../../../services/gen/ptune/v1/training_pb.js';
import type { Task } from '../../../services/storage/index.js';
import { uploadDataset } from '../../orchestration/support/protocol.js';
import { datasetText, seedTask, seedTinyModel } from '../../orchestration/support/seed.js';
import type { FaultEnv } from './fault-env.js';
import { waitFor } from './processes.js';

export interface SubmittedJobs {
  jobIds: string[];
  tasks: Task[];
}

/** `jobs` jobs, each training every one of `taskCount` tasks at `learningRates.length` sweep points. */
export async function submitJobs(
  env: FaultEnv,
  options: { jobs: number; taskCount: number; learningRates: number[]; steps: number },
): Promise<SubmittedJobs> {
  const model = await seedTinyModel(env.db.prisma, env.blobs);
  const tasks: Task[] = [];
  for (let i = 0; i < options.taskCount; i++) tasks.push(await seedTask(env.db.prisma));
  const train = await uploadDataset(env.training, datasetText(16));
  const evalSha = await uploadDataset(env.training, datasetText(4, 1));
  const jobIds: string[] = [];
  const batch = randomUUID();
  for (let j = 0; j < options.jobs; j++) {
    const { job } = await env.training.trainPrompt({
      baseModel: model.name,
      tasks: tasks.map((t) => ({
        task: { namespace: t.namespace, name: t.name },
        train: { source: { case: 'sha256', value: train } },
        eval: { source: { case: 'sha256', value: evalSha } },
      })),
      method: { numVirtualTokens: 4, init: { method: InitMethod.RANDOM } },
      optimizer: { steps: options.steps, batchSize: 4, seed: BigInt(j), checkpointEverySteps: 50 },
      sweep: { learningRates: options.learningRates },
      idempotencyKey: `fault-${batch}-${j}`,
    });
    jobIds.push(job!.id);
  }
  return { jobIds, tasks };
}

/** Waits until every job is terminal; returns them. The default deadline is shorter than the test
 * timeout (vitest: 120 s), so that a stall fails with every process's log. */
export function waitForJobs(env: FaultEnv, jobIds: string[], timeoutMs = 100_000): Promise<Job[]> {
  return waitFor(
    'every job to finish',
    async () => {
      const jobs = await Promise.all(jobIds.map(async (jobId) => (await env.training.getJob({ jobId })).job!));
      return jobs.every((j) => [JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED].includes(j.state)) ? jobs : undefined;
    },
    timeoutMs,
    env.logs,
  );
}

/** Exactly one version per (job, task), each pointing at a trial of that job and task. */
export async function expectOneVersionPerJobTask(
  env: FaultEnv,
  submitted: SubmittedJobs,
): Promise<{ versions: number; problems: string[] }> {
  const problems: string[] = [];
  const rows = await env.db.prisma.promptVersion.findMany({ where: { jobId: { in: submitted.jobIds } }, include: { trial: true } });
  for (const jobId of submitted.jobIds) {
    for (const task of submitted.tasks) {
      const mine = rows.filter((v) => v.jobId === jobId && v.taskId === task.id);
      if (mine.length !== 1) problems.push(`job ${jobId} task ${task.name}: ${mine.length} versions`);
      else if (mine[0].trial?.jobId !== jobId || mine[0].trial?.taskId !== task.id)
        problems.push(`job ${jobId} task ${task.name}: wrong lineage`);
    }
  }
  for (const task of submitted.tasks) {
    const numbers = rows
      .filter((v) => v.taskId === task.id)
      .map((v) => v.version)
      .sort((a, b) => a - b);
    if (numbers.join() !== numbers.map((_, i) => i + 1).join())
      problems.push(`task ${task.name}: versions ${numbers.join(',')} are not 1..n`);
  }
  return { versions: rows.length, problems };
}
