/**
 * The fenced calls a lease holder makes. Each one matches the trial row on (id, lease_epoch,
 * state RUNNING) in the same statement that changes it, so a holder whose lease was taken over
 * (expired and re-granted with a higher epoch) changes nothing and gets LeaseLostError.
 */
import { TrialState, type EvalResult, type StepMetrics } from '../../gen/ptune/v1/training_pb.js';
import { Prisma, type PrismaClient } from '../../storage/index.js';
import type { NewJobEvent } from '../events/job-event-record.js';
import { appendJobEvents, eventCtes } from './event-ctes.js';
import { LeaseLostError } from './lease-lost-error.js';
import { retryDelayMs, type RetryBackoff } from './retry-backoff.js';

export interface LeaseRef {
  trialId: string;
  epoch: number;
}

type Db = Prisma.TransactionClient;
type Returned = Record<string, unknown>;

/** UPDATE trial … WHERE fenced, with events; returns the RETURNING row or undefined when fenced out. */
async function fencedUpdate<R extends Returned>(
  db: Db,
  lease: LeaseRef,
  set: Prisma.Sql,
  returning: Prisma.Sql,
  events: readonly NewJobEvent[],
): Promise<R | undefined> {
  const withEvents = events.length > 0 ? Prisma.sql`, ${eventCtes('hit', events)}` : Prisma.empty;
  const rows = await db.$queryRaw<R[]>`
    WITH hit AS (
      UPDATE trial t SET ${set}
      WHERE t.id = ${lease.trialId}::uuid AND t.lease_epoch = ${lease.epoch}::int AND t.state = 'RUNNING'
      RETURNING t.id, t.job_id, ${returning}
    )${withEvents}
    SELECT * FROM hit`;
  return rows[0];
}

async function currentLease(db: Db, trialId: string): Promise<{ state: string; epoch: number; resultSha256: string | null } | undefined> {
  const rows = await db.$queryRaw<{ state: string; epoch: number; resultSha256: string | null }[]>`
    SELECT state::text AS state, lease_epoch AS epoch, result_sha256 AS "resultSha256" FROM trial WHERE id = ${trialId}::uuid`;
  return rows[0];
}

async function leaseLost(db: Db, lease: LeaseRef): Promise<LeaseLostError> {
  return new LeaseLostError(lease.trialId, lease.epoch, await currentLease(db, lease.trialId));
}

export type HeartbeatVerdict = { status: 'extended'; expiresAt: Date } | { status: 'revoked' } | { status: 'cancelled' };

/** Extends the lease by `ttlMs` from now; tells a cancelled trial's holder to stop. */
export async function heartbeat(db: Db, lease: LeaseRef, step: number, ttlMs: number): Promise<HeartbeatVerdict> {
  const hit = await fencedUpdate<{ expiresAt: Date }>(
    db,
    lease,
    Prisma.sql`lease_expires_at = now() + ${ttlMs}::int * interval '1 millisecond', step = greatest(t.step, ${step}::int)`,
    Prisma.sql`t.lease_expires_at AS "expiresAt"`,
    [],
  );
  if (hit) return { status: 'extended', expiresAt: hit.expiresAt };
  const current = await currentLease(db, lease.trialId);
  return current?.epoch === lease.epoch && current.state === 'CANCELLED' ? { status: 'cancelled' } : { status: 'revoked' };
}

export interface ProgressReport {
  steps: readonly StepMetrics[];
  evals: readonly EvalResult[];
}

/** Appends step metrics and evals to the job's log and keeps the trial's latest step and metrics. */
export async function reportProgress(db: Db, lease: LeaseRef, report: ProgressReport): Promise<void> {
  const last = report.steps.at(-1);
  const latest: Record<string, number> = {};
  if (last) latest.train_loss = last.loss;
  for (const e of report.evals) Object.assign(latest, e.metrics);
  const step = Math.max(last?.step ?? 0, ...report.evals.map((e) => e.step));
  const events: NewJobEvent[] = [
    ...report.steps.map((value): NewJobEvent => ({ kind: { case: 'step', value } })),
    ...report.evals.map((value): NewJobEvent => ({ kind: { case: 'eval', value } })),
  ];
  const hit = await fencedUpdate(
    db,
    lease,
    Prisma.sql`step = greatest(t.step, ${step}::int), metrics = t.metrics || ${JSON.stringify(latest)}::jsonb`,
    Prisma.sql`t.step`,
    events,
  );
  if (!hit) throw await leaseLost(db, lease);
}

/** Records a stored checkpoint (a later attempt resumes from it); also extends the lease. */
export async function reportCheckpoint(db: Db, lease: LeaseRef, blobKey: string, step: number, ttlMs: number): Promise<void> {
  const hit = await fencedUpdate(
    db,
    lease,
    Prisma.sql`checkpoint_key = ${blobKey}, checkpoint_step = ${step}::int, step = greatest(t.step, ${step}::int),
               lease_expires_at = now() + ${ttlMs}::int * interval '1 millisecond'`,
    Prisma.sql`t.checkpoint_step`,
    [{ kind: { case: 'checkpoint', value: { step, blobKey } } }],
  );
  if (!hit) throw await leaseLost(db, lease);
}

export interface TrialResult {
  blobKey: string;
  sha256: string;
  metrics: Record<string, number>;
}

/**
 * RUNNING → SUCCEEDED with the result blob (already stored and verified). A repeat of the same
 * completion (a retried call) is accepted. `lastOfTask` says no other trial of the task was still
 * queued or running in this statement's snapshot (two trials finishing at once can both see the
 * other running; the maintenance pass finalizes such jobs).
 */
export async function completeTrial(db: Db, lease: LeaseRef, result: TrialResult): Promise<{ jobId: string; lastOfTask: boolean }> {
  const hit = await fencedUpdate<{ job_id: string; lastOfTask: boolean }>(
    db,
    lease,
    Prisma.sql`state = 'SUCCEEDED', result_blob_key = ${result.blobKey}, result_sha256 = ${result.sha256},
               metrics = t.metrics || ${JSON.stringify(result.metrics)}::jsonb, finished_at = now(), lease_expires_at = NULL`,
    Prisma.sql`NOT EXISTS (SELECT 1 FROM trial o WHERE o.job_id = t.job_id AND o.task_id = t.task_id
                           AND o.state IN ('QUEUED', 'RUNNING') AND o.id <> t.id) AS "lastOfTask"`,
    [{ kind: { case: 'trialState', value: { state: TrialState.SUCCEEDED } } }],
  );
  if (hit) return { jobId: hit.job_id, lastOfTask: hit.lastOfTask };
  const rows = await db.$queryRaw<{ jobId: string; state: string; epoch: number; sha: string | null }[]>`
    SELECT job_id AS "jobId", state::text AS state, lease_epoch AS epoch, result_sha256 AS sha
    FROM trial WHERE id = ${lease.trialId}::uuid`;
  const row = rows[0];
  if (row && row.state === 'SUCCEEDED' && row.epoch === lease.epoch && row.sha === result.sha256) return { jobId: row.jobId, lastOfTask: true };
  throw await leaseLost(db, lease);
}

interface LockedTrial {
  jobId: string;
  state: string;
  epoch: number;
  attempts: number;
  maxAttempts: number;
  worker: string | null;
}

async function lockTrial(tx: Db, trialId: string): Promise<LockedTrial | undefined> {
  const rows = await tx.$queryRaw<LockedTrial[]>`
    SELECT job_id AS "jobId", state::text AS state, lease_epoch AS epoch, attempts, max_attempts AS "maxAttempts",
           lease_owner AS worker
    FROM trial WHERE id = ${trialId}::uuid FOR UPDATE`;
  return rows[0];
}

export interface AttemptEnd {
  /** the trial goes back to the queue (after backoff) */
  retried: boolean;
  jobId: string;
}

/**
 * Ends the current attempt of a RUNNING trial as failed: back to QUEUED after backoff while attempts
 * remain (and `retryable`), else FAILED. Used by FailTrial and by lease expiry; `expectedEpoch`
 * fences both (expiry passes the epoch it saw expire, so a concurrent heartbeat-then-regrant is safe).
 */
export async function endAttemptAsFailed(
  prisma: PrismaClient,
  lease: LeaseRef,
  failure: { error: string; retryable: boolean; onlyIfExpired?: boolean },
  backoff: RetryBackoff,
): Promise<AttemptEnd> {
  return prisma.$transaction(async (tx) => {
    const trial = await lockTrial(tx, lease.trialId);
    if (!trial || trial.state !== 'RUNNING' || trial.epoch !== lease.epoch) {
      throw new LeaseLostError(lease.trialId, lease.epoch, trial);
    }
    if (failure.onlyIfExpired) {
      const expired = await tx.$queryRaw<{ expired: boolean }[]>`
        SELECT lease_expires_at < now() AS expired FROM trial WHERE id = ${lease.trialId}::uuid`;
      if (!expired[0]?.expired) throw new LeaseLostError(lease.trialId, lease.epoch, trial);
    }
    const retried = failure.retryable && trial.attempts < trial.maxAttempts;
    const delay = retryDelayMs(backoff, trial.attempts);
    await tx.$executeRaw`
      UPDATE trial SET
        state = ${retried ? 'QUEUED' : 'FAILED'}::trial_state,
        error = ${failure.error},
        lease_expires_at = NULL,
        not_before = now() + ${delay}::int * interval '1 millisecond',
        finished_at = ${retried ? null : new Date()}
      WHERE id = ${lease.trialId}::uuid`;
    await appendJobEvents(tx, trial.jobId, [
      {
        trialId: lease.trialId,
        kind: {
          case: 'trialState',
          value: { state: retried ? TrialState.QUEUED : TrialState.FAILED, attempt: trial.attempts, workerId: trial.worker ?? '', reason: failure.error },
        },
      },
    ]);
    return { retried, jobId: trial.jobId };
  });
}

/**
 * Gives a lease back without counting the attempt (the worker stops voluntarily, e.g. SIGTERM, after
 * its last checkpoint). A cancelled trial's release is accepted and changes nothing.
 */
export async function releaseLease(
  prisma: PrismaClient,
  lease: LeaseRef,
  reason: string,
): Promise<void> {
  await prisma.$transaction(async (tx) => {
    const trial = await lockTrial(tx, lease.trialId);
    if (trial && trial.epoch === lease.epoch && trial.state === 'CANCELLED') return;
    if (!trial || trial.state !== 'RUNNING' || trial.epoch !== lease.epoch) {
      throw new LeaseLostError(lease.trialId, lease.epoch, trial);
    }
    await tx.$executeRaw`
      UPDATE trial SET state = 'QUEUED', attempts = attempts - 1, lease_expires_at = NULL, not_before = now()
      WHERE id = ${lease.trialId}::uuid`;
    await appendJobEvents(tx, trial.jobId, [
      {
        trialId: lease.trialId,
        kind: { case: 'trialState', value: { state: TrialState.QUEUED, attempt: trial.attempts, workerId: trial.worker ?? '', reason: `released: ${reason}` } },
      },
    ]);
  });
}

/** Throws LeaseLostError unless (trial, epoch) is the current lease of a RUNNING trial. */
export async function assertCurrentLease(db: Db, lease: LeaseRef): Promise<void> {
  const current = await currentLease(db, lease.trialId);
  if (!current || current.state !== 'RUNNING' || current.epoch !== lease.epoch) {
    throw new LeaseLostError(lease.trialId, lease.epoch, current);
  }
}
