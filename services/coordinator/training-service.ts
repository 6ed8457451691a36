/** TrainingService: datasets, job submission, job views, the event stream, cancellation. */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { DatasetFormat, JobState, TrainingService } from '../gen/ptune/v1/training_pb.js';
import { LIMIT_ENV } from '../config/index.js';
import { implement, type ServiceImplementation } from '../grpc/index.js';
import type { JobState as JobStateName, Prisma } from '../storage/index.js';
import { decodePageToken, failedPrecondition, invalidArgument, notFound, pageSize, paginate } from '../domain/index.js';
import type { CoordinatorContext } from './context.js';
import { storeDataset } from './datasets/store-dataset.js';
import { decodeJobEvent, type JobEventRow } from './events/job-event-record.js';
import { jobView, loadJob, JOB_VIEW_INCLUDE } from './jobs/job-view.js';
import { submitJob } from './jobs/submit-job.js';
import { cancelJob } from './queue/cancel-job.js';
import { mapErrors } from './rpc-errors.js';
import { receiveUpload } from '../registry/upload.js';

const TERMINAL_JOB_STATES: readonly string[] = ['SUCCEEDED', 'FAILED', 'CANCELLED'];

export function trainingService(ctx: CoordinatorContext): ServiceImplementation {
  const getJob = async (jobId: string) => {
    const row = await loadJob(ctx.prisma, checkJobId(jobId));
    if (!row) throw notFound(`job ${jobId} does not exist`, { field: 'job_id' });
    return jobView(row);
  };

  return implement(TrainingService, {
    async uploadDataset(requests) {
      const { header, bytes } = await receiveUpload(requests, {
        what: 'dataset',
        maxBytes: ctx.config.limits.maxDatasetBytes,
        limitSetting: LIMIT_ENV.maxDatasetBytes,
        checkHeader(h) {
          if (h === undefined) throw invalidArgument('header', 'is required');
          if (h.format !== DatasetFormat.UNSPECIFIED && h.format !== DatasetFormat.JSONL_INPUT_OUTPUT) {
            throw invalidArgument('header.format', `unsupported dataset format ${h.format}`);
          }
          return Number(h.sizeBytes);
        },
      });
      const name = header.name || 'dataset.jsonl';
      if (header.expectedSha256 !== '') {
        const actual = createHash('sha256').update(bytes).digest('hex');
        if (actual !== header.expectedSha256)
          throw invalidArgument('header.expected_sha256', `content sha256 ${actual} differs from expected ${header.expectedSha256}`);
      }
      let stored;
      try {
        stored = await storeDataset(ctx, bytes, name, 'anonymous');
      } catch (err) {
        throw invalidArgument('chunk', (err as Error).message);
      }
      return {
        dataset: {
          sha256: stored.sha256,
          sizeBytes: BigInt(stored.sizeBytes),
          exampleCount: BigInt(stored.exampleCount),
          format: DatasetFormat.JSONL_INPUT_OUTPUT,
          name,
          createdAt: timestampFromDate(stored.createdAt),
        },
        created: stored.created,
      };
    },

    trainPrompt: (request) =>
      mapErrors(async () => {
        const submitted = await submitJob(ctx, request);
        return { job: await getJob(submitted.jobId), created: submitted.created };
      }),

    getJob: async (request) => ({ job: await getJob(request.jobId) }),

    async listJobs(request) {
      const size = pageSize(request.pageSize);
      const scope = `jobs:${request.state}`;
      const cursor = decodePageToken(request.pageToken, scope, isJobKey);
      const where: Prisma.JobWhereInput = {};
      if (request.state !== JobState.UNSPECIFIED) where.state = JobState[request.state] as JobStateName;
      if (cursor) {
        const [createdAt, id] = [new Date(cursor[0] as string), cursor[1] as string];
        where.OR = [{ createdAt: { lt: createdAt } }, { createdAt, id: { lt: id } }];
      }
      const rows = await ctx.prisma.job.findMany({
        where,
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        take: size + 1,
        include: JOB_VIEW_INCLUDE,
      });
      const { page, nextPageToken } = paginate(rows, size, scope, (job) => [job.createdAt.toISOString(), job.id]);
      return { jobs: page.map(jobView), nextPageToken };
    },

    async *watchJob(request, context) {
      await getJob(request.jobId);
      let cursor = Number(request.afterSequence);
      while (!context.signal.aborted) {
        const rows = await ctx.prisma.$queryRaw<JobEventRow[]>`
          SELECT job_seq AS "jobSeq", trial_id AS "trialId", type, payload, at FROM job_event
          WHERE job_id = ${request.jobId}::uuid AND job_seq > ${cursor}::int ORDER BY job_seq LIMIT 500`;
        for (const row of rows) {
          const event = decodeJobEvent(row);
          cursor = row.jobSeq;
          yield { event };
          if (event.kind.case === 'jobState' && TERMINAL_JOB_STATES.includes(JobState[event.kind.value.state])) return;
        }
        if (rows.length === 0) {
          ctx.events.nudge();
          const job = await ctx.prisma.job.findUnique({ where: { id: request.jobId }, select: { state: true, lastEventSeq: true } });
          if (!job || (TERMINAL_JOB_STATES.includes(job.state) && cursor >= job.lastEventSeq)) return;
          await sleep(ctx.config.eventPollMs, undefined, { signal: context.signal }).catch(() => undefined);
        }
      }
    },

    async cancelJob(request) {
      const outcome = await cancelJob(ctx.queue, checkJobId(request.jobId), request.reason || 'cancelled by user');
      if (outcome === 'not_found') throw notFound(`job ${request.jobId} does not exist`, { field: 'job_id' });
      if (outcome === 'finished') {
        throw failedPrecondition(`job ${request.jobId} has already finished; only queued or running jobs can be cancelled`, {
          field: 'job_id',
        });
      }
      return { job: await getJob(request.jobId) };
    },
  });
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const isUuid = (value: string): boolean => UUID.test(value);

/** A job id is a UUID (as TrainPrompt returns it); anything else cannot name a job. */
function checkJobId(jobId: string): string {
  if (jobId === '') throw invalidArgument('job_id', 'is required');
  if (!isUuid(jobId)) throw invalidArgument('job_id', `"${jobId}" is not a job id (a UUID, as TrainPrompt and ListJobs return it)`);
  return jobId;
}

/** A ListJobs page key: the last job's creation time and id. */
function isJobKey(key: unknown[]): boolean {
  const [createdAt, id] = key;
  return key.length === 2 && typeof createdAt === 'string' && !Number.isNaN(Date.parse(createdAt)) && typeof id === 'string' && isUuid(id);
}
