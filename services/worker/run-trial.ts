/**
 * Runs one leased trial with the engine: fetch model and data (cached), resume from the lease's
 * checkpoint, train with heartbeats, upload checkpoints and progress, then store the prompt and
 * complete. A stop request (SIGTERM) checkpoints and gives the lease back; a lost lease stops quietly.
 */
import { readFile } from 'node:fs/promises';
import {
  DataError,
  decodeCheckpoint,
  encodePromptFile,
  loadExampleSet,
  loadModel,
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
    if (runner.model?.fingerprint !== spec.baseModel!.fingerprintSha256) {
      runner.model = undefined;
      runner.model = await loadModel(await modelPath(runner.cache, spec.baseModel!, abort));
    }
    const model = runner.model;
    const trainSet = await loadExampleSet(await runner.cache.file(spec.trainDatasetKey, { signal: abort }), model, settings.virtualTokens);
    const evalSet = await loadExampleSet(await runner.cache.file(spec.evalDatasetKey, { signal: abort }), model, settings.virtualTokens);
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
    await session
      .call(() => runner.client.failTrial({ lease: session.token, error: message.slice(0, 4000), retryable: !(err instanceof DataError) }))
      .catch(() => undefined);
    return 'failed';
  } finally {
    session.close();
  }
}
