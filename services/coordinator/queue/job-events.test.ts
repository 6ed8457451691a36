/**
 * The job event log on a real Postgres server: writers append unsequenced events concurrently,
 * several sequencers (as on several replicas) stamp them, and a WatchJob-style reader following a
 * cursor must receive every event exactly once, with job_seq 1…N gap-free per job.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { seedTinyModel } from '../../../test/orchestration/support/seed.js';
import { startPostgres, type TestPostgres } from '../../../test/support/postgres.js';
import { TrialState } from '../../gen/ptune/v1/training_pb.js';
import { LocalBlobStore, openDatabase, type Database } from '../../storage/index.js';
import { appendJobEvents, appendTrialEventOnce, sequenceEvents } from './job-events.js';
import { poolRunner, prismaRunner, type QueryRunner } from './query-runner.js';

const JOBS = 3;
const WRITERS = 8;
const EVENTS_PER_WRITER = 40;

describe('job event sequencing', () => {
  let server: TestPostgres;
  let db: Database;
  let pools: pg.Pool[];
  const poolErrors: Error[] = [];
  let dir: string;

  beforeAll(async () => {
    server = await startPostgres();
    const url = await server.newDatabase();
    db = await openDatabase({ url, migrate: true, poolSize: 4 });
    pools = [new pg.Pool({ connectionString: url, max: 6 }), new pg.Pool({ connectionString: url, max: 6 })];
    // An idle client's error (e.g. the server stopping at teardown) must not crash the run.
    for (const p of pools) p.on('error', (err) => poolErrors.push(err));
    dir = await mkdtemp(path.join(os.tmpdir(), 'ptune-events-'));
  }, 120_000);
  afterEach(() => expect(poolErrors).toEqual([]));
  afterAll(async () => {
    for (const p of pools ?? []) await p.end();
    await db?.close();
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('stamps gap-free per-job sequence numbers that a cursor reader never skips, with writers and sequencers racing', async () => {
    const model = await seedTinyModel(db.prisma, new LocalBlobStore(path.join(dir, 'blobs')));
    const jobs = await Promise.all(
      Array.from({ length: JOBS }, () => db.prisma.job.create({ data: { namespace: 'test', baseModelId: model.id, spec: {}, createdBy: 'test' } })),
    );
    const runners: QueryRunner[] = [...pools.map(poolRunner), prismaRunner(db.prisma)];

    let writing = true;
    const writers = Array.from({ length: WRITERS }, async (_, w) => {
      for (let i = 0; i < EVENTS_PER_WRITER; i++) {
        const job = jobs[(w + i) % JOBS];
        await appendJobEvents(runners[w % runners.length], job.id, [
          { trialId: null, kind: { case: 'trialState', value: { state: TrialState.RUNNING, workerId: `w${w}`, attempt: i } } },
        ]);
      }
    });
    const sequencers = runners.map(async (runner) => {
      while (writing) await runner.transaction(sequenceEvents);
    });
    // a reader per job, following its cursor like WatchJob does
    const seen = new Map<string, number[]>(jobs.map((j) => [j.id, []]));
    const readers = jobs.map(async (job) => {
      let cursor = 0;
      for (;;) {
        const { rows } = await pools[0].query<{ job_seq: number }>('SELECT job_seq FROM job_event WHERE job_id = $1 AND job_seq > $2 ORDER BY job_seq', [job.id, cursor]);
        for (const row of rows) {
          seen.get(job.id)!.push(row.job_seq);
          cursor = row.job_seq;
        }
        if (!writing && rows.length === 0) {
          const { rows: left } = await pools[0].query('SELECT 1 FROM job_event WHERE job_id = $1 AND (job_seq IS NULL OR job_seq > $2) LIMIT 1', [job.id, cursor]);
          if (left.length === 0) return;
        }
        await new Promise((r) => setTimeout(r, 2));
      }
    });
    await Promise.all(writers);
    writing = false;
    await Promise.all(sequencers);
    await runners[0].transaction(sequenceEvents);
    await Promise.all(readers);

    const total = WRITERS * EVENTS_PER_WRITER;
    let received = 0;
    for (const job of jobs) {
      const seqs = seen.get(job.id)!;
      received += seqs.length;
      expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
      const row = await db.prisma.job.findUniqueOrThrow({ where: { id: job.id }, select: { lastEventSeq: true } });
      expect(row.lastEventSeq).toBe(seqs.length);
    }
    expect(received).toBe(total);
    expect(await db.prisma.jobEvent.count({ where: { jobSeq: null } })).toBe(0);
  }, 120_000);

  it('appends a trial event once, however many callers race to append it', async () => {
    const model = await seedTinyModel(db.prisma, new LocalBlobStore(path.join(dir, 'blobs-once')));
    const task = await db.prisma.task.create({ data: { namespace: 'test', name: 'once', createdBy: 'test' } });
    const job = await db.prisma.job.create({ data: { namespace: 'test', baseModelId: model.id, spec: {}, createdBy: 'test' } });
    const trials = await Promise.all([0, 1].map((ordinal) => db.prisma.trial.create({ data: { jobId: job.id, taskId: task.id, ordinal } })));
    const registered = (trialId: string) =>
      ({ trialId, kind: { case: 'registered', value: { version: { task: { namespace: 'test', name: 'once' }, version: 1 } } } }) as const;
    const runners: QueryRunner[] = [...pools.map(poolRunner), prismaRunner(db.prisma)];
    const appended = await Promise.all(Array.from({ length: 12 }, (_, i) => appendTrialEventOnce(runners[i % runners.length], job.id, trials[0].id, registered(trials[0].id))));
    expect(appended.filter(Boolean)).toHaveLength(1);
    // another trial, or another type for the same trial, is a different event
    expect(await appendTrialEventOnce(runners[0], job.id, trials[1].id, registered(trials[1].id))).toBe(true);
    await appendJobEvents(runners[0], job.id, [{ trialId: trials[0].id, kind: { case: 'trialState', value: { state: TrialState.RUNNING } } }]);
    const rows = await db.prisma.jobEvent.groupBy({ by: ['trialId', 'type'], where: { jobId: job.id }, _count: true, orderBy: [{ type: 'asc' }] });
    expect(rows.map((r) => [r.trialId === trials[0].id ? 0 : 1, r.type, r._count]).sort()).toEqual([
      [0, 'registered', 1],
      [0, 'trialState', 1],
      [1, 'registered', 1],
    ]);
  }, 60_000);
});
