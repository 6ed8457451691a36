import { JobState, TrialState } from '../../gen/ptune/v1/training_pb.js';
import type { NewJobEvent } from '../events/job-event-record.js';
import { updateJobWithEvents } from './job-events.js';
import type { QueryRunner, QueueSql } from './query-runner.js';

export type CancelOutcome = 'cancelled' | 'already_cancelled' | 'finished' | 'not_found';

const JOB_STATE: QueueSql = { name: 'ptune_job_state', text: `SELECT state::text AS state FROM job WHERE id = $1::uuid` };

const CANCEL_TRIALS: QueueSql = {
  name: 'ptune_cancel_trials',
  text: `UPDATE trial SET state = 'CANCELLED', finished_at = now(), error = $2
         WHERE job_id = $1::uuid AND state IN ('QUEUED', 'RUNNING')
         RETURNING id, attempts, lease_owner AS worker`,
};

/**
 * Cancels a job: its QUEUED and RUNNING trials become CANCELLED (a running holder learns it from its
 * next heartbeat and releases), then the job. Trials are locked before the sequencer lock and the job
 * row, the same order as every other writer, so this cannot deadlock with a lease or a completion.
 */
export async function cancelJob(db: QueryRunner, jobId: string, reason: string): Promise<CancelOutcome> {
  return db.transaction(async (tx) => {
    const [job] = await tx.query<{ state: string }>(JOB_STATE, [jobId]);
    if (!job) return 'not_found';
    if (job.state === 'CANCELLED') return 'already_cancelled';
    if (job.state !== 'QUEUED' && job.state !== 'RUNNING') return 'finished';
    const trials = await tx.query<{ id: string; attempts: number; worker: string | null }>(CANCEL_TRIALS, [jobId, reason]);
    const events: NewJobEvent[] = trials.map((t) => ({
      trialId: t.id,
      kind: { case: 'trialState', value: { state: TrialState.CANCELLED, attempt: t.attempts, workerId: t.worker ?? '', reason } },
    }));
    events.push({ kind: { case: 'jobState', value: { state: JobState.CANCELLED, reason } } });
    const changed = await updateJobWithEvents(tx, jobId, {
      name: 'cancel',
      set: `state = 'CANCELLED', finished_at = now(), error = $3`,
      where: `state IN ('QUEUED', 'RUNNING')`,
      values: [reason],
      events,
    });
    return changed ? 'cancelled' : 'finished';
  });
}
