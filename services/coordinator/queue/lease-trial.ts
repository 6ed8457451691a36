import { JobState, TrialState } from '../../gen/ptune/v1/training_pb.js';
import { eventsParam, updateJobWithEvents } from './job-events.js';
import type { QueryRunner, QueueSql } from './query-runner.js';

/** What a lease grant returns: the trial, its new epoch, and what the worker needs to run it. */
export interface LeasedTrialRow {
  trialId: string;
  jobId: string;
  taskId: string;
  attempts: number;
  epoch: number;
  expiresAt: Date;
  checkpointKey: string | null;
  checkpointStep: number | null;
  /** trial.sweep_point: the trial's effective settings and data keys (see jobs/trial-plan.ts) */
  plan: unknown;
  /** job.spec->'selection' */
  selection: unknown;
  jobState: string;
  taskNamespace: string;
  taskName: string;
  baseModelId: string;
}

/** A granted lease: the row plus the worker it went to. */
export interface GrantedLease extends LeasedTrialRow {
  workerId: string;
}

/**
 * Grants up to one trial to each of `$1` (worker ids, in order) in one statement.
 *
 * Fair share: among QUEUED trials whose backoff has passed, trial k (k = 1, 2 … in its job's
 * ordinal order) of a job with n RUNNING trials ranks n + k, so one batch interleaves jobs the way
 * the same number of one-at-a-time grants would, and a 1-trial job is not starved by a 500-trial
 * sweep; ties go to the older job, then the trial's position. A batch of K workers can only take
 * the first K available trials of any job, so the statement reads just that head of each active
 * job (index trial(job_id, state, ordinal)), never the whole queue: its cost is K × active jobs,
 * not the queue's length (ranking the whole queue made a batch cost ~10 ms per 1000 QUEUED trials,
 * and stale planner statistics after a big TrainPrompt made it quadratic).
 *
 * Concurrency: the head is locked `FOR UPDATE SKIP LOCKED` where it is read, so concurrent leasers
 * (another batch, another coordinator replica) take different rows: a row locked elsewhere is
 * skipped and the next one in ordinal order is read instead; a row granted by a statement that
 * committed after this one's snapshot is re-checked once locked, against the conditions of the
 * locking level (`state = 'QUEUED'`), and dropped. Locked rows that do not win a place are released
 * at commit. The grant bumps `lease_epoch`, the fencing token every later call must present. The
 * RUNNING events are appended unsequenced (see job-events.ts), so the job row is not locked; `$3`
 * is the event template, the holder's id is added per row.
 */
const LEASE: QueueSql = {
  name: 'ptune_lease_trials',
  text: `
    WITH head AS (
      SELECT j.id AS job_id, j.created_at, q.id, q.ordinal,
             row_number() OVER (PARTITION BY j.id ORDER BY q.ordinal) AS k
      FROM job j
      CROSS JOIN LATERAL (
        SELECT t.id, t.ordinal FROM trial t
        WHERE t.job_id = j.id AND t.state = 'QUEUED' AND t.not_before <= now()
        ORDER BY t.ordinal
        LIMIT cardinality($1::text[])
        FOR UPDATE OF t SKIP LOCKED
      ) q
      WHERE j.state IN ('QUEUED', 'RUNNING')
    ),
    running AS (
      SELECT job_id, count(*) AS n FROM trial WHERE state = 'RUNNING' AND job_id IN (SELECT job_id FROM head) GROUP BY job_id
    ),
    assigned AS (
      SELECT id, ($1::text[])[place] AS worker_id FROM (
        SELECT h.id, row_number() OVER (ORDER BY coalesce(r.n, 0) + h.k, h.created_at, h.job_id, h.ordinal) AS place
        FROM head h LEFT JOIN running r ON r.job_id = h.job_id
      ) ranked
      WHERE place <= cardinality($1::text[])
    ),
    leased AS (
      UPDATE trial t SET
        state = 'RUNNING',
        lease_owner = a.worker_id,
        lease_epoch = t.lease_epoch + 1,
        lease_expires_at = now() + $2::int * interval '1 millisecond',
        attempts = t.attempts + 1,
        started_at = coalesce(t.started_at, now()),
        error = NULL
      FROM assigned a WHERE t.id = a.id
      RETURNING t.id, t.job_id, t.task_id, t.attempts, t.lease_epoch, t.lease_expires_at,
                t.checkpoint_key, t.checkpoint_step, t.sweep_point, t.lease_owner
    ),
    ev AS (
      INSERT INTO job_event (job_id, trial_id, type, payload)
      SELECT l.job_id, l.id, x.e->>'type', x.e->'payload' || jsonb_build_object('workerId', l.lease_owner, 'attempt', l.attempts)
      FROM leased l, jsonb_array_elements($3::jsonb) AS x(e)
      RETURNING 1
    )
    SELECT l.lease_owner AS "workerId", l.id AS "trialId", l.job_id AS "jobId", l.task_id AS "taskId", l.attempts,
           l.lease_epoch AS epoch, l.lease_expires_at AS "expiresAt", l.checkpoint_key AS "checkpointKey",
           l.checkpoint_step AS "checkpointStep", l.sweep_point AS plan, j.spec->'selection' AS selection,
           j.state::text AS "jobState", tk.namespace AS "taskNamespace", tk.name AS "taskName", j.base_model_id AS "baseModelId"
    FROM leased l JOIN job j ON j.id = l.job_id JOIN task tk ON tk.id = l.task_id`,
};

const RUNNING_EVENT = eventsParam([{ kind: { case: 'trialState', value: { state: TrialState.RUNNING } } }]);

/**
 * Leases the next runnable trials to `workerIds` (distinct) in one statement; a worker left out
 * got nothing because nothing more was runnable.
 */
export async function leaseTrials(db: QueryRunner, workerIds: readonly string[], ttlMs: number): Promise<GrantedLease[]> {
  return db.query<GrantedLease>(LEASE, [workerIds, ttlMs, RUNNING_EVENT]);
}

/**
 * QUEUED → RUNNING for a job whose first trial was just leased. Conditional, so concurrent first
 * leases (or a cancellation) make it a no-op; the event is written only when the state changed.
 */
export async function markJobStarted(db: QueryRunner, jobId: string): Promise<void> {
  await updateJobWithEvents(db, jobId, {
    name: 'started',
    set: `state = 'RUNNING', started_at = coalesce(started_at, now())`,
    where: `state = 'QUEUED'`,
    events: [{ kind: { case: 'jobState', value: { state: JobState.RUNNING } } }],
  });
}
