/**
 * Moves a job forward once trials end: every task whose trials are all terminal gets its best trial
 * registered (once), and when no trial is left to run the job becomes SUCCEEDED (a version for every
 * task) or FAILED. Safe to call any number of times, from any replica: registration is idempotent and
 * the job's terminal transition is conditional on it still being QUEUED/RUNNING.
 */
import { fromJson, type JsonValue } from '@bufbuild/protobuf';
import { JobState, TrainPromptRequestSchema } from '../../gen/ptune/v1/training_pb.js';
import * as grpc from '@grpc/grpc-js';
import { RpcError } from '../../grpc/index.js';
import type { CoordinatorContext } from '../context.js';
import { updateJobWithEvents } from '../queue/job-events.js';
import { registerBestTrial } from './register-best-trial.js';
import { decodeTrialPlan } from './trial-plan.js';

const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);
const REFUSALS = new Set([
  grpc.status.INVALID_ARGUMENT,
  grpc.status.NOT_FOUND,
  grpc.status.FAILED_PRECONDITION,
  grpc.status.ALREADY_EXISTS,
]);

export async function finalizeJob(ctx: CoordinatorContext, jobId: string): Promise<void> {
  // only what picking the best trial needs: a sweep can have a thousand trials
  const job = await ctx.prisma.job.findUnique({
    where: { id: jobId },
    include: {
      trials: {
        select: { id: true, taskId: true, state: true, metrics: true, resultBlobKey: true, resultSha256: true },
        orderBy: { ordinal: 'asc' },
      },
      baseModel: true,
    },
  });
  if (!job || (job.state !== 'QUEUED' && job.state !== 'RUNNING')) return;
  const spec = fromJson(TrainPromptRequestSchema, job.spec as JsonValue);
  const selection = spec.selection!;
  const byTask = new Map<string, typeof job.trials>();
  for (const trial of job.trials) {
    const same = byTask.get(trial.taskId);
    if (same) same.push(trial);
    else byTask.set(trial.taskId, [trial]);
  }
  let pending = false;
  const failedTasks: string[] = [];
  for (const trials of byTask.values()) {
    if (!trials.every((t) => TERMINAL.has(t.state))) {
      pending = true;
      continue;
    }
    const task = await ctx.prisma.task.findUniqueOrThrow({ where: { id: trials[0].taskId } });
    const scored = trials
      .filter((t) => t.state === 'SUCCEEDED' && t.resultBlobKey !== null && t.resultSha256 !== null)
      .map((t) => ({ trial: t, value: (t.metrics as Record<string, number>)[selection.name] }))
      .filter((s) => typeof s.value === 'number' && Number.isFinite(s.value));
    if (scored.length === 0) {
      failedTasks.push(`${task.namespace}/${task.name}`);
      continue;
    }
    const best = scored.reduce((a, b) => ((selection.higherIsBetter ? b.value > a.value : b.value < a.value) ? b : a));
    const { sweepPoint } = await ctx.prisma.trial.findUniqueOrThrow({ where: { id: best.trial.id }, select: { sweepPoint: true } });
    const registered = await registerBestTrial(ctx, {
      jobId,
      taskId: task.id,
      taskRef: { namespace: task.namespace, name: task.name },
      trialId: best.trial.id,
      baseModelName: job.baseModel.name,
      resultBlobKey: best.trial.resultBlobKey!,
      metrics: best.trial.metrics as Record<string, number>,
      point: decodeTrialPlan(sweepPoint).point,
      alias: spec.alias,
      createdBy: job.createdBy,
    }).catch((err: unknown) => {
      // the registry refused the prompt (shape, NaN, …): the task fails; anything else is retried later
      if (err instanceof RpcError && REFUSALS.has(err.code)) return err.message;
      throw err;
    });
    if (typeof registered === 'string') failedTasks.push(`${task.namespace}/${task.name} (${registered})`);
  }
  if (pending) return;
  const reason = failedTasks.length > 0 ? `no version registered for ${failedTasks.join(', ')}` : '';
  const state = failedTasks.length > 0 ? JobState.FAILED : JobState.SUCCEEDED;
  await updateJobWithEvents(ctx.queue, jobId, {
    name: 'finish',
    set: `state = $3::job_state, finished_at = now(), error = $4`,
    where: `state IN ('QUEUED', 'RUNNING')`,
    values: [JobState[state], reason === '' ? null : reason],
    events: [{ kind: { case: 'jobState', value: { state, reason } } }],
  });
}

/** Jobs still open although none of their trials can run any more (e.g. the coordinator died mid-finalize). */
export async function jobsReadyToFinalize(ctx: CoordinatorContext): Promise<string[]> {
  const rows = await ctx.prisma.$queryRaw<{ id: string }[]>`
    SELECT j.id FROM job j
    WHERE j.state IN ('QUEUED', 'RUNNING')
      AND NOT EXISTS (SELECT 1 FROM trial t WHERE t.job_id = j.id AND t.state IN ('QUEUED', 'RUNNING'))`;
  return rows.map((r) => r.id);
}
