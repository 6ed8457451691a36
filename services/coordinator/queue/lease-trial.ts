import { JobState, TrialState } from '../../gen/ptune/v1/training_pb.js';
import { Prisma } from '../../storage/index.js';
import { eventCtes, updateJobWithEvents } from './event-ctes.js';

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

/**
 * Leases the next runnable trial to `workerId` in one statement, or returns undefined.
 *
 * Fair share: among QUEUED trials whose backoff has passed, the one of the job with the fewest
 * RUNNING trials wins, then the oldest job, then the trial's position in its job. `FOR UPDATE OF t
 * SKIP LOCKED` below the sort makes concurrent leasers (other requests, other coordinator replicas)
 * take different rows: a row another transaction is granting is skipped, and a row whose state
 * changed after this statement's snapshot is re-checked (`state = 'QUEUED'`) once locked. The grant
 * bumps `lease_epoch`, the fencing token every later call must present.
 */
export async function leaseTrial(db: Prisma.TransactionClient, workerId: string, ttlMs: number): Promise<LeasedTrialRow | undefined> {
  const rows = await db.$queryRaw<LeasedTrialRow[]>`
    WITH running AS (
      SELECT job_id, count(*) AS n FROM trial WHERE state = 'RUNNING' GROUP BY job_id
    ),
    candidate AS (
      SELECT t.id FROM trial t
      JOIN job j ON j.id = t.job_id
      LEFT JOIN running r ON r.job_id = t.job_id
      WHERE t.state = 'QUEUED' AND t.not_before <= now()
      ORDER BY coalesce(r.n, 0), j.created_at, j.id, t.ordinal
      LIMIT 1
      FOR UPDATE OF t SKIP LOCKED
    ),
    leased AS (
      UPDATE trial t SET
        state = 'RUNNING',
        lease_owner = ${workerId},
        lease_epoch = t.lease_epoch + 1,
        lease_expires_at = now() + ${ttlMs}::int * interval '1 millisecond',
        attempts = t.attempts + 1,
        started_at = coalesce(t.started_at, now()),
        error = NULL
      FROM candidate c WHERE t.id = c.id
      RETURNING t.id, t.job_id, t.task_id, t.attempts, t.lease_epoch, t.lease_expires_at,
                t.checkpoint_key, t.checkpoint_step, t.sweep_point
    ),
    ${eventCtes('leased', [{ kind: { case: 'trialState', value: { state: TrialState.RUNNING, workerId } } }])}
    SELECT l.id AS "trialId", l.job_id AS "jobId", l.task_id AS "taskId", l.attempts, l.lease_epoch AS epoch,
           l.lease_expires_at AS "expiresAt", l.checkpoint_key AS "checkpointKey", l.checkpoint_step AS "checkpointStep",
           l.sweep_point AS plan, j.spec->'selection' AS selection, j.state::text AS "jobState",
           tk.namespace AS "taskNamespace", tk.name AS "taskName", j.base_model_id AS "baseModelId"
    FROM leased l JOIN job j ON j.id = l.job_id JOIN task tk ON tk.id = l.task_id`;
  return rows[0];
}

/**
 * QUEUED → RUNNING for a job whose first trial was just leased. Conditional, so concurrent first
 * leases (or a cancellation) make it a no-op; the event is written only when the state changed.
 */
export async function markJobStarted(db: Prisma.TransactionClient, jobId: string): Promise<void> {
  await updateJobWithEvents(db, jobId, {
    set: Prisma.sql`state = 'RUNNING', started_at = coalesce(started_at, now())`,
    where: Prisma.sql`state = 'QUEUED'`,
    events: [{ kind: { case: 'jobState', value: { state: JobState.RUNNING } } }],
  });
}
