/** A leased trial's settings → the engine's training options. */
import { InitMethod } from '../gen/ptune/v1/common_pb.js';
import type { TrialSpec } from '../gen/ptune/v1/worker_pb.js';
import type { PromptInit, TrainOptions } from '../engine/index.js';

export type TrialTrainSettings = Pick<
  TrainOptions,
  'virtualTokens' | 'init' | 'steps' | 'lr' | 'schedule' | 'warmupSteps' | 'weightDecay' | 'gradClip' | 'batchSize' | 'seed' | 'evalEvery' | 'checkpointEvery'
>;

export function trialTrainSettings(spec: TrialSpec): TrialTrainSettings {
  const method = spec.point?.method;
  const optimizer = spec.point?.optimizer;
  if (!method || !optimizer) throw new Error(`trial ${spec.trialId}: the lease carries no settings`);
  return {
    virtualTokens: method.numVirtualTokens,
    init: promptInit(method.init?.method ?? InitMethod.UNSPECIFIED, method.init?.text ?? ''),
    steps: optimizer.steps,
    lr: optimizer.learningRate,
    schedule: optimizer.warmupSteps > 0 ? 'linear' : 'constant',
    warmupSteps: optimizer.warmupSteps,
    weightDecay: optimizer.weightDecay,
    gradClip: optimizer.maxGradNorm,
    batchSize: optimizer.batchSize,
    seed: Number(optimizer.seed),
    evalEvery: optimizer.evalEverySteps || undefined,
    checkpointEvery: optimizer.checkpointEverySteps || undefined,
  };
}

function promptInit(method: InitMethod, text: string): PromptInit {
  switch (method) {
    case InitMethod.RANDOM:
      return { kind: 'random' };
    case InitMethod.TEXT:
      return { kind: 'text', text };
    case InitMethod.UNSPECIFIED:
    case InitMethod.SAMPLE_VOCAB:
      return { kind: 'sample-vocab' };
    default:
      throw new Error(`init ${InitMethod[method] ?? method} is not supported by this worker`);
  }
}

/** Engine eval metrics → the names the coordinator selects by. */
export function evalMetricNames(m: { loss: number; firstTokenAccuracy: number; exactMatch: number }): Record<string, number> {
  return {
    eval_loss: m.loss,
    eval_first_token_accuracy: m.firstTokenAccuracy,
    eval_accuracy: m.firstTokenAccuracy,
    eval_exact_match: m.exactMatch,
  };
}
