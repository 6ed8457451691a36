/**
 * The fenced calls a lease holder makes. Each one matches the trial row on (id, lease_epoch,
 * state RUNNING) in the same statement that changes it, so a holder whose lease was taken over
 * (expired and re-granted with a higher epoch) changes nothing and gets LeaseLostError.
 */
import { TrialState, type EvalResult, type StepMetrics } from '../../gen/ptune/v1/training_pb.js';
import type { NewJobEvent } from '../events/job-event-record.js';
import { appendJobEvents, eventsParam, insertEventsCte } from './job-events.js';
import { LeaseLostError } from './lease-lost-error.js';
import type { QueryRunner, QueueSql } from './query-runner.js';
import { retryDelayMs, type RetryBackoff } from './retry-backoff.js';

export interface LeaseRef {
  trialId: string;
  epoch: number;
}

/**
 * UPDATE trial … WHERE fenced, appending the events passed as $3 (jsonb array); `set` and
 * `returning` use parameters from $4 on.
 */
function fencedUpdate(name: string, set: string, returning: string): QueueSql {
  return {
    name: `ptune_fenced_${name}`,
    text: `
      WITH hit AS (
        UPDATE trial t SET ${set}
        WHERE t.id = $1::uuid AND t.lease_epoch = $2::int AND t.state = 'RUNNING'
        RETURNING t.id, t.job_id, ${returning}
      ), ${insertEventsCte('hit', '$3')}
      SELECT * FROM hit`,
  };
}

async function runFenced<R>(
  db: QueryRunner,
  sql: QueueSql,
  lease: LeaseRef,
  events: readonly NewJobEvent[],
  values: readonly unknown[],
): Promise<R | undefined> {
  const rows = await db.query<R>(sql, [lease.trialId, lease.epoch, eventsParam(events), ...values]);
  return rows[0];
}

const CURRENT: QueueSql = {
  name: 'ptune_current_lease',
  text: `SELECT job_id AS "jobId", state::text AS state, lease_epoch AS epoch, result_sha256 AS "resultSha256" FROM trial WHERE id = $1::uuid`,
};

async function currentLease(
  db: QueryRunner,
  trialId: string,
): Promise<{ jobId: string; state: string; epoch: number; resultSha256: string | null } | undefined> {
  const rows = await db.query<{ jobId: string; state: string; epoch: number; resultSha256: string | null }>(CURRENT, [trialId]);
  return rows[0];
}

async function leaseLost(db: QueryRunner, lease: LeaseRef): Promise<LeaseLostError> {
  return new LeaseLostError(lease.trialId, lease.epoch, await currentLease(db, lease.trialId));
}

export type HeartbeatVerdict = { status: 'extended'; expiresAt: Date } | { status: 'revoked' } | { status: 'cancelled' };

const HEARTBEAT = fencedUpdate(
  'heartbeat',
  `lease_expires_at = now() + $4::int * interval '1 millisecond', step = greatest(t.step, $5::int)`,
  `t.lease_expires_at AS "expiresAt"`,
);

/** Extends the lease by `ttlMs` from now; tells a cancelled trial's holder to stop. */
export async function heartbeat(db: QueryRunner, lease: LeaseRef, step: number, ttlMs: number): Promise<HeartbeatVerdict> {
  const hit = await runFenced<{ expiresAt: Date }>(db, HEARTBEAT, lease, [], [ttlMs, step]);
  if (hit) return { status: 'extended', expiresAt: hit.expiresAt };
  const current = await currentLease(db, lease.trialId);
  return current?.epoch === lease.epoch && current.state === 'CANCELLED' ? { status: 'cancelled' } : { status: 'revoked' };
}

export interface ProgressReport {
  steps: readonly StepMetrics[];
  evals: readonly EvalResult[];
}

const PROGRESS = fencedUpdate('progress', `step = greatest(t.step, $4::int), metrics = t.metrics || $5::jsonb`, `t.step`);

/** Appends step metrics and evals to the job's log and keeps the trial's latest step and metrics. */
export async function reportProgress(db: QueryRunner, lease: LeaseRef, report: ProgressReport): Promise<void> {
  const last = report.steps.at(-1);
  const latest: Record<string, number> = {};
  if (last) latest.train_loss = last.loss;
  for (const e of report.evals) Object.assign(latest, e.metrics);
  const step = Math.max(last?.step ?? 0, ...report.evals.map((e) => e.step));
  const events: NewJobEvent[] = [
    ...report.steps.map((value): NewJobEvent => ({ kind: { case: 'step', value } })),
    ...report.evals.map((value): NewJobEvent => ({ kind: { case: 'eval', value } })),
  ];
  const hit = await runFenced(db, PROGRESS, lease, events, [step, JSON.stringify(latest)]);
  if (!hit) throw await leaseLost(db, lease);
}

const CHECKPOINT = fencedUpdate(
  'checkpoint',
  `checkpoint_key = $4, checkpoint_step = $5::int, step = greatest(t.step, $5::int),
   lease_expires_at = now() + $6::int * interval '1 millisecond'`,
  `t.checkpoint_step`,
);

/** Records a stored checkpoint (a later attempt resumes from it); also extends the lease. */
export async function reportCheckpoint(db: QueryRunner, lease: LeaseRef, blobKey: string, step: number, ttlMs: number): Promise<void> {
  const hit = await runFenced(db, CHECKPOINT, lease, [{ kind: { case: 'checkpoint', value: { step, blobKey } } }], [blobKey, step, ttlMs]);
  if (!hit) throw await leaseLost(db, lease);
}

export interface TrialResult {
  blobKey: string;
  sha256: string;
  metrics: Record<string, number>;
}

export interface Completion {
  lease: LeaseRef;
  result: TrialResult;
}

export interface CompletionDone {
  jobId: string;
  /** no other trial of the task was queued or running (see completeTrials) */
  lastOfTask: boolean;
}

/**
 * RUNNING → SUCCEEDED with the result blob (already stored and verified), for many leases in one
 * statement, each fenced on its own epoch. A completion that matched no row gets undefined (see
 * missedCompletion). `lastOfTask` says no trial of the task outside this batch was still queued or
 * running in this statement's snapshot: two trials finishing in different statements at once can
 * both see the other running (the maintenance pass finalizes such jobs), and finalizing re-checks.
 */
const COMPLETE: QueueSql = {
  name: 'ptune_complete_trials',
  text: `
    WITH c AS (
      SELECT * FROM unnest($1::uuid[], $2::int[], $3::text[], $4::text[], $5::jsonb[]) AS c(id, epoch, blob_key, sha256, metrics)
    ),
    hit AS (
      UPDATE trial t SET state = 'SUCCEEDED', result_blob_key = c.blob_key, result_sha256 = c.sha256,
        metrics = t.metrics || c.metrics, finished_at = now(), lease_expires_at = NULL
      FROM c WHERE t.id = c.id AND t.lease_epoch = c.epoch AND t.state = 'RUNNING'
      RETURNING t.id, t.job_id,
        NOT EXISTS (SELECT 1 FROM trial o WHERE o.job_id = t.job_id AND o.task_id = t.task_id
                    AND o.state IN ('QUEUED', 'RUNNING') AND o.id <> ALL($1::uuid[])) AS "lastOfTask"
    ), ${insertEventsCte('hit', '$6')}
    SELECT id, job_id AS "jobId", "lastOfTask" FROM hit`,
};
const SUCCEEDED_EVENTS = eventsParam([{ kind: { case: 'trialState', value: { state: TrialState.SUCCEEDED } } }]);

export async function completeTrials(db: QueryRunner, completions: readonly Completion[]): Promise<(CompletionDone | undefined)[]> {
  const rows = await db.query<CompletionDone & { id: string }>(COMPLETE, [
    completions.map((c) => c.lease.trialId),
    completions.map((c) => c.lease.epoch),
    completions.map((c) => c.result.blobKey),
    completions.map((c) => c.result.sha256),
    completions.map((c) => JSON.stringify(c.result.metrics)),
    SUCCEEDED_EVENTS,
  ]);
  const byId = new Map(rows.map((r) => [r.id, { jobId: r.jobId, lastOfTask: r.lastOfTask }]));
  return completions.map((c) => byId.get(c.lease.trialId));
}

/**
 * Why a completion matched no row: a repeat of the same completion (a retried call) is accepted;
 * anything else is a lost lease.
 */
export async function missedCompletion(db: QueryRunner, completion: Completion): Promise<CompletionDone> {
  const { lease, result } = completion;
  const row = await currentLease(db, lease.trialId);
  if (row && row.state === 'SUCCEEDED' && row.epoch === lease.epoch && row.resultSha256 === result.sha256)
    return { jobId: row.jobId, lastOfTask: true };
  throw new LeaseLostError(lease.trialId, lease.epoch, row);
}

interface LockedTrial {
  jobId: string;
  state: string;
  epoch: number;
  attempts: number;
  maxAttempts: number;
  worker: string | null;
  expired: boolean;
}

const LOCK_TRIAL: QueueSql = {
  name: 'ptune_lock_trial',
  text: `SELECT job_id AS "jobId", state::text AS state, lease_epoch AS epoch, attempts, max_attempts AS "maxAttempts",
                lease_owner AS worker, coalesce(lease_expires_at < now(), false) AS expired
         FROM trial WHERE id = $1::uuid FOR UPDATE`,
};

async function lockTrial(tx: QueryRunner, trialId: string): Promise<LockedTrial | undefined> {
  const rows = await tx.query<LockedTrial>(LOCK_TRIAL, [trialId]);
  return rows[0];
}

export interface AttemptEnd {
  /** the trial goes back to the queue (after backoff) */
  retried: boolean;
  jobId: string;
  /** ms until a requeued trial may be leased again */
  delayMs: number;
}

const END_ATTEMPT: QueueSql = {
  name: 'ptune_end_attempt',
  text: `UPDATE trial SET
           state = $2::trial_state,
           error = $3,
           lease_expires_at = NULL,
           not_before = now() + $4::int * interval '1 millisecond',
           finished_at = CASE WHEN $2::trial_state = 'FAILED' THEN now() END
         WHERE id = $1::uuid
         RETURNING 1 AS ok`,
};

/**
 * Ends the current attempt of a RUNNING trial as failed: back to QUEUED after backoff while attempts
 * remain (and `retryable`), else FAILED. Used by FailTrial and by lease expiry; `lease.epoch`
 * fences both (expiry passes the epoch it saw expire, so a concurrent heartbeat-then-regrant is safe).
 */
export async function endAttemptAsFailed(
  db: QueryRunner,
  lease: LeaseRef,
  failure: { error: string; retryable: boolean; onlyIfExpired?: boolean },
  backoff: RetryBackoff,
): Promise<AttemptEnd> {
  return db.transaction(async (tx) => {
    const trial = await lockTrial(tx, lease.trialId);
    if (!trial || trial.state !== 'RUNNING' || trial.epoch !== lease.epoch || (failure.onlyIfExpired && !trial.expired)) {
      throw new LeaseLostError(lease.trialId, lease.epoch, trial);
    }
    const retried = failure.retryable && trial.attempts < trial.maxAttempts;
    const delayMs = retryDelayMs(backoff, trial.attempts);
    await tx.query(END_ATTEMPT, [lease.trialId, retried ? 'QUEUED' : 'FAILED', failure.error, delayMs]);
    await appendJobEvents(tx, trial.jobId, [
      {
        trialId: lease.trialId,
        kind: {
          case: 'trialState',
          value: {
            state: retried ? TrialState.QUEUED : TrialState.FAILED,
            attempt: trial.attempts,
            workerId: trial.worker ?? '',
            reason: failure.error,
          },
        },
      },
    ]);
    return { retried, jobId: trial.jobId, delayMs };
  });
}

const RELEASE: QueueSql = {
  name: 'ptune_release_lease',
  text: `UPDATE trial SET state = 'QUEUED', attempts = attempts - 1, lease_expires_at = NULL, not_before = now()
         WHERE id = $1::uuid RETURNING 1 AS ok`,
};

/**
 * Gives a lease back without counting the attempt (the worker stops voluntarily, e.g. SIGTERM, after
 * its last checkpoint). A cancelled trial's release is accepted and changes nothing. Returns whether
 * the trial went back to the queue.
 */
export async function releaseLease(db: QueryRunner, lease: LeaseRef, reason: string): Promise<boolean> {
  return db.transaction(async (tx) => {
    const trial = await lockTrial(tx, lease.trialId);
    if (trial && trial.epoch === lease.epoch && trial.state === 'CANCELLED') return false;
    if (!trial || trial.state !== 'RUNNING' || trial.epoch !== lease.epoch) {
      throw new LeaseLostError(lease.trialId, lease.epoch, trial);
    }
    await tx.query(RELEASE, [lease.trialId]);
    await appendJobEvents(tx, trial.jobId, [
      {
        trialId: lease.trialId,
        kind: {
          case: 'trialState',
          value: { state: TrialState.QUEUED, attempt: trial.attempts, workerId: trial.worker ?? '', reason: `released: ${reason}` },
        },
      },
    ]);
    return true;
  });
}

/** Throws LeaseLostError unless (trial, epoch) is the current lease of a RUNNING trial. */
export async function assertCurrentLease(db: QueryRunner, lease: LeaseRef): Promise<void> {
  const current = await currentLease(db, lease.trialId);
  if (!current || current.state !== 'RUNNING' || current.epoch !== lease.epoch) {
    throw new LeaseLostError(lease.trialId, lease.epoch, current);
  }
}
