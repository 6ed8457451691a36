/**
 * Runs one leased trial with the engine: fetch model and data (cached), resume from the lease's
 * checkpoint, train with heartbeats, upload checkpoints and progress, then store the prompt and
 * complete. A stop request (SIGTERM) checkpoints and gives the lease back; a lost lease stops quietly.
 */
import { readFile } from 'node:fs/promises';
import {
  checkMemoryBudget,
  DataError,
  largestSeqLen,
  MemoryLimitError,
  openModel,
  readModelWeights,
  type MemoryLimit,
  type WeightsDtype,
  decodeCheckpoint,
  encodePromptFile,
  loadExampleSet,
  promptMetadata,
  train,
  TrainingAbortedError,
  type ExecutionProvider,
  type LoadedModel,
} from '../engine/index.js';
import type { TrialLease, WorkerProtocolService } from '../gen/ptune/v1/worker_pb.js';
import type { ServiceClient } from '../grpc/index.js';
import type { BlobCache } from './blob-cache.js';
import { modelPath } from './model-files.js';
import { LeaseSession } from './lease-session.js';
import { evalMetricNames, trialTrainSettings } from './trial-options.js';

export interface TrialRunner {
  client: ServiceClient<typeof WorkerProtocolService>;
  cache: BlobCache;
  workerId: string;
  heartbeatMs: number;
  threads?: number;
  executionProvider?: ExecutionProvider;
  /** keep onnxruntime's idle threads spinning (dedicated cores) */
  spinning?: boolean;
  log: (message: string) => void;
  /** told after every optimizer step (metrics) */
  onStep?: () => void;
  /** how models are held, and the memory a trial may use (checked before a model is read) */
  memory: { weightsDtype: WeightsDtype; recompute: boolean; limit: MemoryLimit };
  /** the last model used, kept loaded for the next trial on the same base model */
  model?: LoadedModel;
}

export type TrialOutcome = 'completed' | 'failed' | 'released' | 'lost';

export async function runTrial(runner: TrialRunner, lease: TrialLease, stop: AbortSignal): Promise<TrialOutcome> {
  const spec = lease.trial!;
  const session = new LeaseSession(runner.client, runner.workerId, lease, runner.heartbeatMs, stop);
  const abort = AbortSignal.any([stop, session.lost.signal]);
  const label = `trial ${spec.trialId} (attempt ${spec.attempt}, epoch ${lease.epoch})`;
  try {
    const settings = trialTrainSettings(spec);
    const baseModel = spec.baseModel!;
    if (runner.model?.fingerprint !== baseModel.fingerprintSha256) runner.model = undefined; // freed before the next is read
    const opened = runner.model ?? (await openModel(await modelPath(runner.cache, baseModel, abort)));
    const trainSet = await loadExampleSet(await runner.cache.file(spec.trainDatasetKey, { signal: abort }), opened, settings.virtualTokens);
    const evalSet = await loadExampleSet(await runner.cache.file(spec.evalDatasetKey, { signal: abort }), opened, settings.virtualTokens);
    checkMemoryBudget(
      {
        spec: opened.spec,
        weights: opened.weights.list(),
        weightsDtype: runner.memory.weightsDtype,
        recompute: runner.memory.recompute,
        mode: 'train',
        batch: settings.batchSize,
        seqLen: largestSeqLen([trainSet, evalSet], settings.virtualTokens, opened.spec.contextLength),
      },
      runner.memory.limit,
      `base model ${baseModel.name}`,
    );
    runner.model ??= await readModelWeights(opened, runner.memory.weightsDtype);
    const model = runner.model;
    const resume =
      lease.resumeCheckpointKey === ''
        ? undefined
        : decodeCheckpoint(
            await readFile(await runner.cache.file(lease.resumeCheckpointKey, { signal: abort })),
            lease.resumeCheckpointKey,
          );
    runner.log(`${label}: ${resume ? `resuming from step ${resume.step}` : 'starting'} (${settings.steps} steps)`);

    const evals: { step: number; metrics: Record<string, number> }[] = [];
    const result = await train(
      {
        ...settings,
        model,
        train: trainSet,
        eval: evalSet,
        resume,
        threads: runner.threads,
        executionProvider: runner.executionProvider,
        spinning: runner.spinning,
        recompute: runner.memory.recompute,
      },
      {
        signal: abort,
        onProgress: (p) => {
          runner.onStep?.();
          session.progress({ step: p.step, loss: p.loss, learningRate: p.lr, gradNorm: p.gradNorm, tokensPerSecond: 0 });
        },
        onEval: (step, metrics) => evals.push({ step, metrics: evalMetricNames(metrics) }),
        onCheckpoint: async (checkpoint) => {
          if (session.ended) return; // the lease is gone: nothing may be written for it
          const { key } = await session.putBlob('checkpoint', checkpoint.bytes);
          await session.flush(evals.splice(0));
          await session.call(() => runner.client.reportCheckpoint({ lease: session.token, blobKey: key, step: checkpoint.step }));
        },
      },
    );
    await session.flush(evals.splice(0));
    const metrics: Record<string, number> = { ...evalMetricNames(result.evalAfter!), train_loss: result.losses.at(-1) ?? Number.NaN };
    const prompt = encodePromptFile(
      result.promptEmbeddings,
      result.dim,
      promptMetadata(result.identity, result.dim, result.evalBefore, result.evalAfter),
    );
    const { sha256 } = await session.putBlob('prompt', prompt);
    await session.call(() => runner.client.completeTrial({ lease: session.token, resultBlobSha256: sha256, metrics }));
    runner.log(`${label}: completed, eval_loss ${metrics.eval_loss.toFixed(4)}`);
    return 'completed';
  } catch (err) {
    if (session.ended === 'revoked') {
      runner.log(`${label}: lease lost, stopped`);
      return 'lost';
    }
    if (session.ended === 'cancelled' || (err instanceof TrainingAbortedError && stop.aborted)) {
      await session
        .call(() => runner.client.releaseLease({ lease: session.token, reason: session.ended ? 'job cancelled' : 'worker stopping' }))
        .catch(() => undefined);
      runner.log(`${label}: released (${session.ended ? 'job cancelled' : 'worker stopping'})`);
      return 'released';
    }
    const message = err instanceof Error ? err.message : String(err);
    runner.log(`${label}: failed: ${message}`);
    // bad data, or a model too big for this worker's memory: running it again here would fail the same way
    const retryable = !(err instanceof DataError || err instanceof MemoryLimitError);
    await session
      .call(() => runner.client.failTrial({ lease: session.token, error: message.slice(0, 4000), retryable }))
      .catch(() => undefined);
    return 'failed';
  } finally {
    session.close();
  }
}
