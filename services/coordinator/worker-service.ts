/** WorkerProtocolService: the fenced lease protocol between the coordinator and its workers. */
import { randomUUID } from 'node:crypto';
import { create, fromJson, toJson, type JsonValue } from '@bufbuild/protobuf';
import { durationFromMs, timestampFromDate } from '@bufbuild/protobuf/wkt';
import { SelectionMetricSchema } from '../gen/ptune/v1/training_pb.js';
import { LeaseStatus, WorkerCapabilitiesSchema, WorkerProtocolService, type LeaseToken } from '../gen/ptune/v1/worker_pb.js';
import { failedPrecondition, invalidArgument, notFound } from '../domain/index.js';
import { implement, RpcError, type ServiceImplementation } from '../grpc/index.js';
import { contentKey, isSha256Hex, type Prisma } from '../storage/index.js';
import { toBaseModel, withFiles, type BaseModelInit } from '../registry/base-models.js';
import type { CoordinatorContext } from './context.js';
import { finalizeJob } from './jobs/finalize-job.js';
import { decodeTrialPlan } from './jobs/trial-plan.js';
import { createBatcher } from './batcher.js';
import { createCoalescedRunner, type CoalescedRunner } from './coalesced-runner.js';
import { leaseTrials, markJobStarted, type LeasedTrialRow } from './queue/lease-trial.js';
import {
  assertCurrentLease,
  completeTrials,
  missedCompletion,
  type Completion,
  endAttemptAsFailed,
  heartbeat,
  releaseLease,
  reportCheckpoint,
  reportProgress,
  type LeaseRef,
} from './queue/trial-calls.js';
import { mapErrors } from './rpc-errors.js';
import { streamBlob } from './blob-transfer.js';
import { openUpload } from '../registry/upload.js';

const MAX_STARTING_JOBS = 256;
const MAX_BATCH = 64;
const MAX_PUT_BLOB_BYTES = 1024 * 1024 * 1024;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** lease_epoch is a Postgres integer column: no epoch above this was ever granted */
const MAX_EPOCH = 2 ** 31 - 1;

function leaseRef(token: LeaseToken | undefined): LeaseRef {
  if (!token || token.leaseId === '') throw invalidArgument('lease', 'is required');
  if (!UUID.test(token.leaseId)) throw invalidArgument('lease.lease_id', 'is not a lease id (a UUID, as LeaseTrial returns it)');
  if (token.epoch > MAX_EPOCH)
    throw failedPrecondition(`lease ${token.leaseId} epoch ${token.epoch} was never granted`, { field: 'lease.epoch' });
  return { trialId: token.leaseId, epoch: Number(token.epoch) };
}

export function workerService(ctx: CoordinatorContext): ServiceImplementation {
  // Base models are immutable rows, so caching them by id is safe across replicas and restarts.
  const models = new Map<string, Promise<BaseModelInit>>();
  const baseModel = (id: string): Promise<BaseModelInit> => {
    let model = models.get(id);
    if (!model) {
      model = ctx.prisma.baseModel.findUniqueOrThrow({ where: { id }, include: withFiles }).then(toBaseModel);
      models.set(id, model);
      model.catch(() => models.delete(id));
    }
    return model;
  };

  // Leases granted around a job's first one all report it QUEUED; they share one QUEUED → RUNNING
  // transition (it takes the sequencer lock) instead of queueing a no-op each. Bounded: old jobs leave.
  const starting = new Map<string, Promise<void>>();
  const markStarted = (jobId: string): Promise<void> => {
    let started = starting.get(jobId);
    if (!started) {
      started = markJobStarted(ctx.queue, jobId);
      starting.set(jobId, started);
      started.catch(() => starting.delete(jobId));
      if (starting.size > MAX_STARTING_JOBS) starting.delete(starting.keys().next().value!);
    }
    return started;
  };

  // concurrent LeaseTrial calls share one grant statement, at most one grant per worker in it
  const leases = createBatcher(
    async (workerIds: string[]) => {
      const granted = new Map((await leaseTrials(ctx.queue, workerIds, ctx.config.leaseTtlMs)).map((g) => [g.workerId, g]));
      return workerIds.map((id) => granted.get(id));
    },
    { maxBatch: MAX_BATCH, key: (workerId) => workerId },
  );
  // concurrent CompleteTrial calls share one statement, each fenced on its own lease
  const completions = createBatcher((items: Completion[]) => completeTrials(ctx.queue, items), {
    maxBatch: MAX_BATCH,
    key: (c) => c.lease.trialId,
  });

  // trials of one job ending together (one batch) share one finalize pass; it re-reads the job, so it
  // is idempotent, and a failure is retried by the maintenance pass
  const finalizers = new Map<string, CoalescedRunner>();
  const finalize = async (jobId: string): Promise<void> => {
    let runner = finalizers.get(jobId);
    if (!runner) {
      runner = createCoalescedRunner(() => finalizeJob(ctx, jobId), ctx.onError);
      finalizers.set(jobId, runner);
    }
    await runner.flush();
    if (!runner.busy()) finalizers.delete(jobId);
  };

  const tryLease = async (workerId: string): Promise<LeasedTrialRow | undefined> => {
    // an unknown worker fails the lease's foreign key; only then is the worker looked up (off the hot path)
    const leased = await leases.run(workerId).catch(async (err: unknown) => {
      const known = await ctx.prisma.worker.count({ where: { id: workerId } });
      throw known === 0 ? notFound(`worker ${workerId} is not registered (call RegisterWorker)`, { field: 'worker_id' }) : err;
    });
    if (!leased) return undefined;
    if (leased.jobState === 'QUEUED') await markStarted(leased.jobId);
    ctx.events.nudge();
    return leased;
  };

  return implement(WorkerProtocolService, {
    async registerWorker(request) {
      const id = request.name.trim() || `worker-${randomUUID()}`;
      const capabilities = toJson(
        WorkerCapabilitiesSchema,
        request.capabilities ?? create(WorkerCapabilitiesSchema),
      ) as Prisma.InputJsonValue;
      await ctx.prisma.worker.upsert({
        where: { id },
        create: { id, capabilities },
        update: { capabilities, lastSeenAt: new Date(), registeredAt: new Date() },
      });
      return {
        workerId: id,
        heartbeatInterval: durationFromMs(ctx.config.heartbeatIntervalMs),
        leaseTtl: durationFromMs(ctx.config.leaseTtlMs),
      };
    },

    async leaseTrial(request, context) {
      if (request.workerId === '') throw invalidArgument('worker_id', 'is required (call RegisterWorker)');
      const waitMs = Math.min(
        ctx.config.maxLeaseWaitMs,
        request.waitTimeout ? Number(request.waitTimeout.seconds) * 1000 + request.waitTimeout.nanos / 1e6 : 0,
      );
      const deadline = Date.now() + waitMs;
      let leased = await tryLease(request.workerId);
      while (!leased && Date.now() < deadline && !context.signal.aborted) {
        await ctx.wakeup.wait(Math.min(ctx.config.leasePollMs, deadline - Date.now()), context.signal);
        if (context.signal.aborted) break;
        leased = await tryLease(request.workerId);
      }
      if (!leased) return {};
      if (context.signal.aborted) {
        // the caller gave up while its grant was in a batch: give the trial back now rather than at expiry
        if (await releaseLease(ctx.queue, { trialId: leased.trialId, epoch: leased.epoch }, 'LeaseTrial call cancelled'))
          ctx.wakeup.wake(1);
        return {};
      }
      const plan = decodeTrialPlan(leased.plan);
      const model = await baseModel(leased.baseModelId);
      return {
        lease: {
          leaseId: leased.trialId,
          epoch: BigInt(leased.epoch),
          expiresAt: timestampFromDate(leased.expiresAt),
          ttl: durationFromMs(ctx.config.leaseTtlMs),
          resumeCheckpointKey: leased.checkpointKey ?? '',
          resumeStep: leased.checkpointStep ?? 0,
          trial: {
            jobId: leased.jobId,
            trialId: leased.trialId,
            attempt: leased.attempts,
            baseModel: model,
            task: { namespace: leased.taskNamespace, name: leased.taskName },
            trainDatasetKey: plan.trainKey,
            evalDatasetKey: plan.evalKey,
            point: plan.point,
            selection: fromJson(SelectionMetricSchema, leased.selection as JsonValue),
          },
        },
      };
    },

    heartbeat: (request) =>
      mapErrors(async () => {
        const verdict = await heartbeat(ctx.queue, leaseRef(request.lease), request.step, ctx.config.leaseTtlMs);
        if (verdict.status === 'extended') return { status: LeaseStatus.EXTENDED, expiresAt: timestampFromDate(verdict.expiresAt) };
        return { status: verdict.status === 'cancelled' ? LeaseStatus.CANCELLED : LeaseStatus.REVOKED };
      }),

    reportProgress: (request) =>
      mapErrors(async () => {
        await reportProgress(ctx.queue, leaseRef(request.lease), { steps: request.steps, evals: request.evals });
        ctx.events.nudge();
        return {};
      }),

    reportCheckpoint: (request) =>
      mapErrors(async () => {
        if (!(await ctx.blobs.has(request.blobKey))) {
          throw failedPrecondition(`checkpoint blob ${request.blobKey} is not stored (PutBlob it first)`, { field: 'blob_key' });
        }
        await reportCheckpoint(ctx.queue, leaseRef(request.lease), request.blobKey, request.step, ctx.config.leaseTtlMs);
        ctx.events.nudge();
        return {};
      }),

    completeTrial: (request) =>
      mapErrors(async () => {
        if (!isSha256Hex(request.resultBlobSha256)) {
          throw invalidArgument('result_blob_sha256', 'must be 64 lower-case hex digits');
        }
        const key = contentKey('prompt', request.resultBlobSha256);
        if (!(await ctx.blobs.has(key))) {
          throw failedPrecondition(`result blob ${key} is not stored (PutBlob it first)`, { field: 'result_blob_sha256' });
        }
        const completion: Completion = {
          lease: leaseRef(request.lease),
          result: { blobKey: key, sha256: request.resultBlobSha256, metrics: request.metrics },
        };
        const done = (await completions.run(completion)) ?? (await missedCompletion(ctx.queue, completion));
        if (done.lastOfTask) await finalize(done.jobId);
        ctx.events.nudge();
        return {};
      }),

    failTrial: (request) =>
      mapErrors(async () => {
        const end = await endAttemptAsFailed(
          ctx.queue,
          leaseRef(request.lease),
          { error: request.error || 'failed without a message', retryable: request.retryable },
          ctx.config.retryBackoff,
        );
        if (end.retried) ctx.wakeup.wakeAfter(end.delayMs, 1);
        else await finalize(end.jobId);
        ctx.events.nudge();
        return { willRetry: end.retried };
      }),

    releaseLease: (request) =>
      mapErrors(async () => {
        if (await releaseLease(ctx.queue, leaseRef(request.lease), request.reason || 'released')) ctx.wakeup.wake(1);
        ctx.events.nudge();
        return {};
      }),

    getBlob: (request) => streamBlob(ctx.blobs, request.key, request.chunkSize),

    putBlob: (requests) =>
      mapErrors(async () => {
        let fenced: { sha256: string; kind: 'checkpoint' | 'prompt' } | undefined;
        const upload = await openUpload(requests, {
          what: 'blob',
          maxBytes: MAX_PUT_BLOB_BYTES,
          async checkHeader(h) {
            if (!h) throw invalidArgument('header', 'is required');
            const kind = h.kind === '' ? 'checkpoint' : h.kind;
            if (kind !== 'checkpoint' && kind !== 'prompt') {
              throw invalidArgument('header.kind', `"${h.kind}" must be "checkpoint" or "prompt"`);
            }
            if (!isSha256Hex(h.sha256)) throw invalidArgument('header.sha256', 'must be 64 lower-case hex digits');
            // fenced before any byte is accepted, so a taken-over worker cannot even upload
            await assertCurrentLease(ctx.queue, leaseRef(h.lease));
            fenced = { sha256: h.sha256, kind };
            return Number(h.sizeBytes);
          },
        });
        const { sha256, kind } = fenced!;
        const key = contentKey(kind, sha256);
        try {
          // the store hashes while it writes and keeps nothing unless the digest matches
          await ctx.blobs.put(key, upload.chunks, { sha256 });
        } catch (err) {
          if (err instanceof RpcError) throw err;
          throw invalidArgument('header.sha256', `blob rejected: ${(err as Error).message}`);
        }
        return { key, sizeBytes: BigInt(upload.declared) };
      }),
  });
}
