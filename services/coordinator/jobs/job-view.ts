/** Database rows → the wire's Job (with trials and per-task results). */
import { create, fromJson, type JsonValue } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { jobStateFromDb, trialStateFromDb } from '../../domain/index.js';
import { JobSchema, TrainPromptRequestSchema, type Job } from '../../gen/ptune/v1/training_pb.js';
import type { Prisma, PrismaClient } from '../../storage/index.js';
import { decodeTrialPlan } from './trial-plan.js';

export const JOB_VIEW_INCLUDE = {
  trials: { include: { task: true }, orderBy: { ordinal: 'asc' } },
  promptVersions: { include: { task: true } },
} as const satisfies Prisma.JobInclude;

export type JobWithTrials = Prisma.JobGetPayload<{ include: typeof JOB_VIEW_INCLUDE }>;

export async function loadJob(prisma: PrismaClient, jobId: string): Promise<JobWithTrials | null> {
  return prisma.job.findUnique({ where: { id: jobId }, include: JOB_VIEW_INCLUDE });
}

export function jobView(row: JobWithTrials): Job {
  const spec = fromJson(TrainPromptRequestSchema, row.spec as JsonValue);
  return create(JobSchema, {
    id: row.id,
    state: jobStateFromDb(row.state),
    spec,
    trials: row.trials.map((t) => {
      const point = decodeTrialPlan(t.sweepPoint).point;
      return {
        id: t.id,
        task: { namespace: t.task.namespace, name: t.task.name },
        point,
        state: trialStateFromDb(t.state),
        attempt: t.attempts,
        step: t.step,
        totalSteps: point.optimizer?.steps ?? 0,
        metrics: t.metrics as Record<string, number>,
        workerId: t.leaseOwner ?? '',
        error: t.error ?? '',
      };
    }),
    results: row.promptVersions.map((v) => {
      const metrics = v.metrics as Record<string, number>;
      return {
        task: { namespace: v.task.namespace, name: v.task.name },
        trialId: v.trialId ?? '',
        version: v.version,
        selectionMetricValue: metrics[spec.selection?.name ?? 'eval_loss'] ?? 0,
      };
    }),
    error: row.error ?? '',
    createdBy: row.createdBy,
    createdAt: timestampFromDate(row.createdAt),
    startedAt: row.startedAt ? timestampFromDate(row.startedAt) : undefined,
    finishedAt: row.finishedAt ? timestampFromDate(row.finishedAt) : undefined,
    lastEventSequence: BigInt(row.lastEventSeq),
  });
}
