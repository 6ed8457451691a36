/**
 * The job event log on a real Postgres server: writers append unsequenced events concurrently,
 * several sequencers (as on several replicas) stamp them, and a WatchJob-style reader following a
 * cursor must receive every event exactly once, with job_seq 1…N gap-free per job.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { seedTinyModel } from '../../../test/orchestration/support/seed.js';
import { usePostgresPools } from '../../../test/support/postgres-pools.js';
import { TrialState } from '../../gen/ptune/v1/training_pb.js';
import { LocalBlobStore } from '../../storage/index.js';
import { appendJobEvents, appendTrialEventOnce, sequenceEvents } from './job-events.js';
import { poolRunner, prismaRunner, type QueryRunner } from './query-runner.js';

const JOBS = 3;
const WRITERS = 8;
const EVENTS_PER_WRITER = 40;

describe('job event sequencing', () => {
  const env = usePostgresPools({ pools: 2, maxPerPool: 6, prismaPoolSize: 4 });

  it('stamps gap-free per-job sequence numbers that a cursor reader never skips, with writers and sequencers racing', async () => {
    const model = await seedTinyModel(env.db.prisma, new LocalBlobStore(path.join(env.dir, 'blobs')));
    const jobs = await Promise.all(
      Array.from({ length: JOBS }, () =>
        env.db.prisma.job.create({ data: { namespace: 'test', baseModelId: model.id, spec: {}, createdBy: 'test' } }),
      ),
    );
    const runners: QueryRunner[] = [...env.pools.map(poolRunner), prismaRunner(env.db.prisma)];

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
        const { rows } = await env.pools[0].query<{ job_seq: number }>(
          'SELECT job_seq FROM job_event WHERE job_id = $1 AND job_seq > $2 ORDER BY job_seq',
          [job.id, cursor],
        );
        for (const row of rows) {
          seen.get(job.id)!.push(row.job_seq);
          cursor = row.job_seq;
        }
        if (!writing && rows.length === 0) {
          const { rows: left } = await env.pools[0].query(
            'SELECT 1 FROM job_event WHERE job_id = $1 AND (job_seq IS NULL OR job_seq > $2) LIMIT 1',
            [job.id, cursor],
          );
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
      const row = await env.db.prisma.job.findUniqueOrThrow({ where: { id: job.id }, select: { lastEventSeq: true } });
      expect(row.lastEventSeq).toBe(seqs.length);
    }
    expect(received).toBe(total);
    expect(await env.db.prisma.jobEvent.count({ where: { jobSeq: null } })).toBe(0);
  }, 120_000);

  it('appends a trial event once, however many callers race to append it', async () => {
    const model = await seedTinyModel(env.db.prisma, new LocalBlobStore(path.join(env.dir, 'blobs-once')));
    const task = await env.db.prisma.task.create({ data: { namespace: 'test', name: 'once', createdBy: 'test' } });
    const job = await env.db.prisma.job.create({ data: { namespace: 'test', baseModelId: model.id, spec: {}, createdBy: 'test' } });
    const trials = await Promise.all(
      [0, 1].map((ordinal) => env.db.prisma.trial.create({ data: { jobId: job.id, taskId: task.id, ordinal } })),
    );
    const registered = (trialId: string) =>
      ({ trialId, kind: { case: 'registered', value: { version: { task: { namespace: 'test', name: 'once' }, version: 1 } } } }) as const;
    const runners: QueryRunner[] = [...env.pools.map(poolRunner), prismaRunner(env.db.prisma)];
    const appended = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        appendTrialEventOnce(runners[i % runners.length], job.id, trials[0].id, registered(trials[0].id)),
      ),
    );
    expect(appended.filter(Boolean)).toHaveLength(1);
    // another trial, or another type for the same trial, is a different event
    expect(await appendTrialEventOnce(runners[0], job.id, trials[1].id, registered(trials[1].id))).toBe(true);
    await appendJobEvents(runners[0], job.id, [
      { trialId: trials[0].id, kind: { case: 'trialState', value: { state: TrialState.RUNNING } } },
    ]);
    const rows = await env.db.prisma.jobEvent.groupBy({
      by: ['trialId', 'type'],
      where: { jobId: job.id },
      _count: true,
      orderBy: [{ type: 'asc' }],
    });
    expect(rows.map((r) => [r.trialId === trials[0].id ? 0 : 1, r.type, r._count]).sort()).toEqual([
      [0, 'registered', 1],
      [0, 'trialState', 1],
      [1, 'registered', 1],
    ]);
  }, 60_000);
});
