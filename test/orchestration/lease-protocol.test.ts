import { setTimeout as sleep } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { InitMethod } from '../../services/gen/ptune/v1/common_pb.js';
import { JobState, TrialState, type JobEvent } from '../../services/gen/ptune/v1/training_pb.js';
import { LeaseStatus, type TrialLease } from '../../services/gen/ptune/v1/worker_pb.js';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { TrainPromptRequestSchema } from '../../services/gen/ptune/v1/training_pb.js';
import type { BaseModel, Task } from '../../services/storage/index.js';
import { startCoordinatorHarness, type CoordinatorHarness } from './support/coordinator-harness.js';
import { promptBytes, putBlob, rpcError, uploadDataset } from './support/protocol.js';
import { datasetText, seedTask, seedTinyModel } from './support/seed.js';

describe('coordinator lease protocol (PGlite)', () => {
  let h: CoordinatorHarness;
  let model: BaseModel;
  let task: Task;
  let train: string;
  let evalSet: string;

  beforeAll(async () => {
    h = await startCoordinatorHarness({
      config: { leaseTtlMs: 1500, maintenanceIntervalMs: 200, retryBackoff: { baseMs: 10, maxMs: 100 }, eventPollMs: 20 },
    });
    model = await seedTinyModel(h.db.prisma, h.blobs);
    task = await seedTask(h.db.prisma);
    train = await uploadDataset(h.training, datasetText(12));
    evalSet = await uploadDataset(h.training, datasetText(4, 3));
  });
  afterAll(() => h?.close());
  // a failed test must not leave runnable trials behind for the next one
  afterEach(async () => {
    const open = await h.db.prisma.job.findMany({ where: { state: { in: ['QUEUED', 'RUNNING'] } }, select: { id: true } });
    for (const job of open) await h.training.cancelJob({ jobId: job.id });
  });

  type RequestInit = Exclude<MessageInitShape<typeof TrainPromptRequestSchema>, { $typeName: string }>;
  const request = (overrides: Partial<RequestInit> = {}): RequestInit => ({
    baseModel: model.name,
    tasks: [
      {
        task: { namespace: task.namespace, name: task.name },
        train: { source: { case: 'sha256', value: train } },
        eval: { source: { case: 'sha256', value: evalSet } },
      },
    ],
    method: { numVirtualTokens: 4, init: { method: InitMethod.RANDOM } },
    optimizer: { steps: 6, batchSize: 2 },
    ...overrides,
  });

  const token = (lease: TrialLease) => ({ leaseId: lease.leaseId, epoch: lease.epoch });
  const register = async (name: string): Promise<string> => (await h.workers.registerWorker({ name })).workerId;

  it('writes the job and its trials at once, and the idempotency key returns the same job', async () => {
    const first = await h.training.trainPrompt(request({ sweep: { learningRates: [0.01, 0.03] }, idempotencyKey: 'same-key' }));
    const again = await h.training.trainPrompt(request({ sweep: { learningRates: [0.01, 0.03] }, idempotencyKey: 'same-key' }));
    expect(first.created).toBe(true);
    expect(again.created).toBe(false);
    expect(again.job!.id).toBe(first.job!.id);
    expect(first.job!.trials.map((t) => [t.state, t.point!.optimizer!.learningRate])).toEqual([
      [TrialState.QUEUED, 0.01],
      [TrialState.QUEUED, 0.03],
    ]);
    await h.training.cancelJob({ jobId: first.job!.id });
  });

  it('fences a worker whose lease was taken over, resumes from its checkpoint, registers the best trial once', async () => {
    const { job } = await h.training.trainPrompt(request({ sweep: { learningRates: [0.01, 0.03] }, alias: 'staging' }));
    const w1 = await register('w1');
    const w2 = await register('w2');

    const a = (await h.workers.leaseTrial({ workerId: w1 })).lease!;
    expect(a.epoch).toBe(1n);
    expect(a.resumeCheckpointKey).toBe('');
    expect((await h.workers.heartbeat({ workerId: w1, lease: token(a), step: 1 })).status).toBe(LeaseStatus.EXTENDED);
    await h.workers.reportProgress({ lease: token(a), steps: [{ step: 1, loss: 3.5, learningRate: 0.01 }] });
    const ckpt = await putBlob(h.workers, token(a), 'checkpoint', Buffer.from('checkpoint at step 3'));
    await h.workers.reportCheckpoint({ lease: token(a), blobKey: ckpt, step: 3 });

    // w1 goes silent: its lease expires, the trial is requeued and w2 gets it with a higher epoch
    const bOther = (await h.workers.leaseTrial({ workerId: w2 })).lease!;
    expect(bOther.leaseId).not.toBe(a.leaseId); // the other trial first
    const keepAlive = setInterval(() => void h.workers.heartbeat({ workerId: w2, lease: token(bOther) }), 200);
    const b = (await h.workers.leaseTrial({ workerId: w2, waitTimeout: { seconds: 5n } })).lease!;
    expect(b.leaseId).toBe(a.leaseId);
    expect(b.epoch).toBe(2n);
    expect(b.resumeCheckpointKey).toBe(ckpt);
    expect(b.resumeStep).toBe(3);

    const prompt = await putBlob(h.workers, token(b), 'prompt', promptBytes(4, model.hiddenSize, 1));
    const refused = await rpcError(
      h.workers.completeTrial({ lease: token(a), resultBlobSha256: prompt.slice('prompt/'.length), metrics: { eval_loss: 0.1 } }),
    );
    expect(refused.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(refused.message).toContain('lease was taken over');
    expect((await h.workers.heartbeat({ workerId: w1, lease: token(a) })).status).toBe(LeaseStatus.REVOKED);
    expect((await rpcError(putBlob(h.workers, token(a), 'prompt', Buffer.from('late')))).code).toBe(grpc.status.FAILED_PRECONDITION);

    await h.workers.completeTrial({ lease: token(b), resultBlobSha256: prompt.slice('prompt/'.length), metrics: { eval_loss: 1.5 } });
    const other = await putBlob(h.workers, token(bOther), 'prompt', promptBytes(4, model.hiddenSize, 2));
    await h.workers.completeTrial({ lease: token(bOther), resultBlobSha256: other.slice('prompt/'.length), metrics: { eval_loss: 0.75 } });
    clearInterval(keepAlive);
    // a retried completion of the same lease is accepted and changes nothing
    await h.workers.completeTrial({ lease: token(bOther), resultBlobSha256: other.slice('prompt/'.length), metrics: { eval_loss: 0.75 } });

    const done = (await h.training.getJob({ jobId: job!.id })).job!;
    expect(done.state).toBe(JobState.SUCCEEDED);
    expect(done.results).toHaveLength(1);
    expect(done.results[0].trialId).toBe(bOther.leaseId); // lower eval_loss wins
    expect(done.results[0].selectionMetricValue).toBe(0.75);
    const versions = await h.db.prisma.promptVersion.findMany({ where: { jobId: job!.id } });
    expect(versions).toHaveLength(1);
    expect(versions[0]).toMatchObject({ trialId: bOther.leaseId, blobKey: other, numVirtualTokens: 4, tokenDim: model.hiddenSize });
    const alias = await h.db.prisma.alias.findUnique({ where: { taskId_name: { taskId: task.id, name: 'staging' } } });
    expect(alias?.versionId).toBe(versions[0].id);

    // the log, from the start and resumed from a cursor
    const events: JobEvent[] = [];
    for await (const e of h.training.watchJob({ jobId: job!.id })) events.push(e.event!);
    expect(events.map((e) => Number(e.sequence))).toEqual(events.map((_, i) => i + 1));
    expect(events.at(-1)!.kind).toMatchObject({ case: 'jobState', value: { state: JobState.SUCCEEDED } });
    expect(events.filter((e) => e.kind.case === 'registered')).toHaveLength(1);
    expect(events.some((e) => e.kind.case === 'trialState' && e.kind.value.reason.includes('lease expired'))).toBe(true);
    const tail: JobEvent[] = [];
    for await (const e of h.training.watchJob({ jobId: job!.id, afterSequence: events.at(-3)!.sequence })) tail.push(e.event!);
    expect(tail.map((e) => e.sequence)).toEqual(events.slice(-2).map((e) => e.sequence));
  });

  it('shares workers fairly: a one-trial job is not starved by a larger one', async () => {
    const big = await h.training.trainPrompt(request({ sweep: { learningRates: [0.01, 0.02, 0.03, 0.04] } }));
    const small = await h.training.trainPrompt(request());
    const w = await register('fair');
    const first = (await h.workers.leaseTrial({ workerId: w })).lease!;
    const second = (await h.workers.leaseTrial({ workerId: w })).lease!;
    expect(first.trial!.jobId).toBe(big.job!.id); // older job, both idle
    expect(second.trial!.jobId).toBe(small.job!.id); // the job with no running trial goes next
    for (const id of [big.job!.id, small.job!.id]) await h.training.cancelJob({ jobId: id });
    expect((await h.workers.heartbeat({ workerId: w, lease: token(first) })).status).toBe(LeaseStatus.CANCELLED);
    await h.workers.releaseLease({ lease: token(first), reason: 'cancelled' });
  });

  it('retries a failed attempt with backoff, then fails the trial and the job after max_attempts', async () => {
    const { job } = await h.training.trainPrompt(request({ maxAttempts: 2 }));
    const w = await register('failing');
    const first = (await h.workers.leaseTrial({ workerId: w })).lease!;
    expect((await h.workers.failTrial({ lease: token(first), error: 'boom', retryable: true })).willRetry).toBe(true);
    const second = (await h.workers.leaseTrial({ workerId: w, waitTimeout: { seconds: 2n } })).lease!;
    expect(second.trial!.attempt).toBe(2);
    expect((await h.workers.failTrial({ lease: token(second), error: 'boom again', retryable: true })).willRetry).toBe(false);
    const failed = (await h.training.getJob({ jobId: job!.id })).job!;
    expect(failed.state).toBe(JobState.FAILED);
    expect(failed.trials[0]).toMatchObject({ state: TrialState.FAILED, error: 'boom again', attempt: 2 });
    // every state event names the attempt it belongs to: RUNNING the attempt that starts (issue #13 item 8)
    const attempts: string[] = [];
    for await (const { event } of h.training.watchJob({ jobId: job!.id })) {
      if (event?.kind.case === 'trialState') attempts.push(`${TrialState[event.kind.value.state]} ${event.kind.value.attempt}`);
    }
    expect(attempts.filter((a) => a.startsWith('RUNNING'))).toEqual(['RUNNING 1', 'RUNNING 2']);
    expect(await h.db.prisma.promptVersion.count({ where: { jobId: job!.id } })).toBe(0);
  });

  it('gives a released lease back without using up an attempt', async () => {
    const { job } = await h.training.trainPrompt(request({ maxAttempts: 1 }));
    const w = await register('releasing');
    const lease = (await h.workers.leaseTrial({ workerId: w })).lease!;
    await h.workers.releaseLease({ lease: token(lease), reason: 'SIGTERM' });
    const again = (await h.workers.leaseTrial({ workerId: w })).lease!;
    expect(again.leaseId).toBe(lease.leaseId);
    expect(again.trial!.attempt).toBe(1);
    expect(again.epoch).toBe(lease.epoch + 1n);
    await h.training.cancelJob({ jobId: job!.id });
    await sleep(1);
  });
});
