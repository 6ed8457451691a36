import { JobState, TrialState } from '../../gen/ptune/v1/training_pb.js';
import { Prisma, type PrismaClient } from '../../storage/index.js';
import type { NewJobEvent } from '../events/job-event-record.js';
import { updateJobWithEvents } from './event-ctes.js';

export type CancelOutcome = 'cancelled' | 'already_cancelled' | 'finished' | 'not_found';

/**
 * Cancels a job: its QUEUED and RUNNING trials become CANCELLED (a running holder learns it from its
 * next heartbeat and releases), then the job. Trials are locked before the job row, the same order
 * as every other writer, so this cannot deadlock with a lease or a completion.
 */
export async function cancelJob(prisma: PrismaClient, jobId: string, reason: string): Promise<CancelOutcome> {
  return prisma.$transaction(async (tx) => {
    const job = await tx.job.findUnique({ where: { id: jobId }, select: { state: true } });
    if (!job) return 'not_found';
    if (job.state === 'CANCELLED') return 'already_cancelled';
    if (job.state !== 'QUEUED' && job.state !== 'RUNNING') return 'finished';
    const trials = await tx.$queryRaw<{ id: string; attempts: number; worker: string | null }[]>`
      UPDATE trial SET state = 'CANCELLED', finished_at = now(), error = ${reason}
      WHERE job_id = ${jobId}::uuid AND state IN ('QUEUED', 'RUNNING')
      RETURNING id, attempts, lease_owner AS worker`;
    const events: NewJobEvent[] = trials.map((t) => ({
      trialId: t.id,
      kind: { case: 'trialState', value: { state: TrialState.CANCELLED, attempt: t.attempts, workerId: t.worker ?? '', reason } },
    }));
    events.push({ kind: { case: 'jobState', value: { state: JobState.CANCELLED, reason } } });
    const changed = await updateJobWithEvents(tx, jobId, {
      set: Prisma.sql`state = 'CANCELLED', finished_at = now(), error = ${reason}`,
      where: Prisma.sql`state IN ('QUEUED', 'RUNNING')`,
      events,
    });
    return changed ? 'cancelled' : 'finished';
  });
}
