/**
 * The job event log. Writers append events unsequenced (job_seq NULL) inside the statement that
 * changes the trial, without touching the job row, so leases and completions of one job do not
 * serialize on it. `sequenceEvents` later stamps job_seq: one sequencer at a time (an advisory lock,
 * across replicas), stamping every committed unsequenced event in insertion order and advancing
 * job.last_event_seq under the job row lock — so job_seq is gap-free and a job's stamped events
 * commit in order, which is what WatchJob's cursor relies on.
 */
import { encodeJobEvent, type NewJobEvent } from '../events/job-event-record.js';
import type { QueryRunner, QueueSql } from './query-runner.js';

/** pg_advisory_xact_lock key of the sequencer ("ptunesq") */
const SEQUENCER_LOCK = 0x7074756e657371n;

/** The events as the jsonb parameter the event CTEs expect. */
export function eventsParam(events: readonly NewJobEvent[]): string {
  return JSON.stringify(events.map(encodeJobEvent));
}

/**
 * A CTE `ev` that inserts the jsonb array parameter `$param` as events of the rows of `source` (a
 * CTE with `job_id` and `id` = trial id columns; nothing is inserted when it is empty, e.g. a fenced
 * update that matched no row). An event's own `trialId` (null = job-level) wins over the source's.
 */
export function insertEventsCte(source: string, param: string): string {
  return `ev AS (
    INSERT INTO job_event (job_id, trial_id, type, payload)
    SELECT s.job_id, CASE WHEN x.e ? 'trialId' THEN (x.e->>'trialId')::uuid ELSE s.id END, x.e->>'type', x.e->'payload'
    FROM ${source} s, jsonb_array_elements(${param}::jsonb) WITH ORDINALITY AS x(e, ord)
    ORDER BY s.id, x.ord
    RETURNING 1
  )`;
}

const APPEND: QueueSql = {
  name: 'ptune_append_job_events',
  text: `WITH target AS (SELECT $1::uuid AS job_id, NULL::uuid AS id), ${insertEventsCte('target', '$2')}
         SELECT count(*)::int AS n FROM ev`,
};

/** Appends events to a job's log (job-level events, or events naming their trial). */
export async function appendJobEvents(db: QueryRunner, jobId: string, events: readonly NewJobEvent[]): Promise<void> {
  if (events.length > 0) await db.query(APPEND, [jobId, eventsParam(events)]);
}

const LOCK_TRIAL_EVENT: QueueSql = {
  name: 'ptune_lock_trial_event',
  text: `SELECT pg_advisory_xact_lock(hashtextextended($1, 0)) IS NULL AS locked`,
};

const APPEND_ONCE: QueueSql = {
  name: 'ptune_append_trial_event_once',
  text: `WITH target AS (
           SELECT $1::uuid AS job_id, $2::uuid AS id
           WHERE NOT EXISTS (SELECT 1 FROM job_event WHERE job_id = $1::uuid AND trial_id = $2::uuid AND type = $4)
         ), ${insertEventsCte('target', '$3')}
         SELECT count(*)::int AS n FROM ev`,
};

/**
 * Appends a trial's event unless the job's log already holds one of the same type for that trial:
 * for an effect made idempotent elsewhere (a registration), whose event a crash may have separated
 * from it. Concurrent callers (replicas finalizing one job) serialize on an advisory lock per trial
 * and type. Returns whether it appended.
 */
export async function appendTrialEventOnce(db: QueryRunner, jobId: string, trialId: string, event: NewJobEvent): Promise<boolean> {
  return db.transaction(async (tx) => {
    await tx.query(LOCK_TRIAL_EVENT, [`${event.kind.case}:${trialId}`]);
    const [appended] = await tx.query<{ n: number }>(APPEND_ONCE, [jobId, trialId, eventsParam([event]), event.kind.case]);
    return appended.n > 0;
  });
}

const LOCK_SEQUENCER: QueueSql = {
  name: 'ptune_lock_sequencer',
  text: `SELECT pg_advisory_xact_lock(${SEQUENCER_LOCK}::bigint) IS NULL AS locked`,
};

const STAMP: QueueSql = {
  name: 'ptune_stamp_job_events',
  text: `
    WITH pending AS (
      SELECT seq, job_id, row_number() OVER (PARTITION BY job_id ORDER BY seq) AS rn
      FROM job_event WHERE job_seq IS NULL
    ),
    counts AS (SELECT job_id, count(*)::int AS n FROM pending GROUP BY job_id),
    bumped AS (
      UPDATE job SET last_event_seq = job.last_event_seq + counts.n FROM counts WHERE job.id = counts.job_id
      RETURNING job.id, job.last_event_seq - counts.n AS base
    ),
    stamped AS (
      UPDATE job_event e SET job_seq = bumped.base + p.rn
      FROM pending p JOIN bumped ON bumped.id = p.job_id WHERE e.seq = p.seq
      RETURNING 1
    )
    SELECT count(*)::int AS n FROM stamped`,
};

/**
 * Stamps job_seq on every unsequenced event; must run in a transaction (`tx`), where the advisory
 * lock is held until commit. The stamping statement starts after the lock is granted, so it sees
 * everything earlier sequencers stamped. Returns how many events were stamped.
 */
export async function sequenceEvents(tx: QueryRunner): Promise<number> {
  await tx.query(LOCK_SEQUENCER, []);
  const [row] = await tx.query<{ n: number }>(STAMP, []);
  return row.n;
}

export interface JobUpdate {
  /** SET assignments on the job row; parameters start at $3 */
  set: string;
  /** condition on the job row; the update (and its events) happen only when it holds */
  where: string;
  /** parameters $3… of `set` and `where` */
  values?: readonly unknown[];
  /** job-level events recorded with the change */
  events: readonly NewJobEvent[];
  /** a stable name for the statement (it is prepared once per connection) */
  name: string;
}

/**
 * Updates a job row, appends job-level events and sequences them, in one transaction holding the
 * sequencer lock: when the new job state is visible, so are its events with their job_seq (WatchJob
 * ends on a terminal state once its cursor reaches last_event_seq). Returns false when `where` did not match.
 */
export async function updateJobWithEvents(db: QueryRunner, jobId: string, update: JobUpdate): Promise<boolean> {
  const sql: QueueSql = {
    name: `ptune_job_${update.name}`,
    text: `WITH changed AS (
             UPDATE job SET ${update.set} WHERE id = $1::uuid AND ${update.where} RETURNING id AS job_id, NULL::uuid AS id
           ), ${insertEventsCte('changed', '$2')}
           SELECT (SELECT count(*) FROM changed)::int AS n`,
  };
  const events = update.events.map((e) => ({ ...e, trialId: e.trialId ?? null }));
  return db.transaction(async (tx) => {
    await tx.query(LOCK_SEQUENCER, []);
    const [row] = await tx.query<{ n: number }>(sql, [jobId, eventsParam(events), ...(update.values ?? [])]);
    await tx.query(STAMP, []);
    return row.n > 0;
  });
}
