import { Prisma } from '../../storage/index.js';
import { encodeJobEvent, type NewJobEvent } from '../events/job-event-record.js';

/**
 * Two CTEs that append `events` to the log of the job named by `source` (a CTE with `job_id` and
 * `id` = trial id columns, zero or one row): `bump` advances job.last_event_seq, which takes the job
 * row lock, so one job's events commit in job_seq order and job_seq stays gap-free; `ev` inserts the
 * rows. Nothing is inserted when `source` is empty (e.g. a fenced update that matched no row).
 */
export function eventCtes(source: string, events: readonly NewJobEvent[]): Prisma.Sql {
  const src = Prisma.raw(source);
  const json = JSON.stringify(events.map(encodeJobEvent));
  const n = events.length;
  return Prisma.sql`
  bump AS (
    UPDATE job SET last_event_seq = job.last_event_seq + ${n}::int
    FROM ${src} WHERE job.id = ${src}.job_id
    RETURNING job.id AS job_id, ${src}.id AS trial_id, job.last_event_seq - ${n}::int AS base
  ),
  ev AS (
    INSERT INTO job_event (job_id, trial_id, job_seq, type, payload)
    SELECT bump.job_id, CASE WHEN x.e ? 'trialId' THEN (x.e->>'trialId')::uuid ELSE bump.trial_id END,
           bump.base + x.ord::int, x.e->>'type', x.e->'payload'
    FROM bump, jsonb_array_elements(${json}::jsonb) WITH ORDINALITY AS x(e, ord)
    RETURNING 1
  )`;
}

/** Appends events to a job's log in one statement (job-level events, or events about a known trial). */
export async function appendJobEvents(db: Prisma.TransactionClient, jobId: string, events: readonly NewJobEvent[]): Promise<void> {
  if (events.length === 0) return;
  await db.$queryRaw`
    WITH target AS (SELECT ${jobId}::uuid AS job_id, NULL::uuid AS id),
    ${eventCtes('target', events)}
    SELECT count(*)::int AS n FROM ev`;
}

export interface JobUpdate {
  /** SET assignments (without last_event_seq) */
  set: Prisma.Sql;
  /** condition on the job row; the update (and its events) happen only when it holds */
  where: Prisma.Sql;
  /** job-level events recorded with the change */
  events: readonly NewJobEvent[];
}

/**
 * Updates a job row and appends job-level events in the same UPDATE (a statement may modify a row
 * only once, so the seq bump rides along). Returns false when `where` did not match.
 */
export async function updateJobWithEvents(db: Prisma.TransactionClient, jobId: string, update: JobUpdate): Promise<boolean> {
  const n = update.events.length;
  const json = JSON.stringify(update.events.map((e) => encodeJobEvent({ ...e, trialId: e.trialId ?? null })));
  const rows = await db.$queryRaw<{ n: number }[]>`
    WITH changed AS (
      UPDATE job SET ${update.set}, last_event_seq = last_event_seq + ${n}::int
      WHERE id = ${jobId}::uuid AND ${update.where}
      RETURNING id, last_event_seq - ${n}::int AS base
    ),
    ev AS (
      INSERT INTO job_event (job_id, trial_id, job_seq, type, payload)
      SELECT changed.id, (x.e->>'trialId')::uuid, changed.base + x.ord::int, x.e->>'type', x.e->'payload'
      FROM changed, jsonb_array_elements(${json}::jsonb) WITH ORDINALITY AS x(e, ord)
      RETURNING 1
    )
    SELECT (SELECT count(*) FROM changed)::int AS n`;
  return rows[0].n > 0;
}
