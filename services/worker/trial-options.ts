/** A leased trial's settings → the engine's training options. */
import { InitMethod } from '../gen/ptune/v1/common_pb.js';
import type { MethodSettings } from '../gen/ptune/v1/training_pb.js';
import { encoderFromProto, initToEngine, methodFromProto } from '../domain/index.js';
import type { TrialSpec } from '../gen/ptune/v1/worker_pb.js';
import type { MethodOptions, PromptInit, TrainOptions } from '../engine/index.js';

export type TrialTrainSettings = Pick<
  TrainOptions,
  | 'method'
  | 'virtualTokens'
  | 'init'
  | 'steps'
  | 'lr'
  | 'schedule'
  | 'warmupSteps'
  | 'weightDecay'
  | 'gradClip'
  | 'batchSize'
  | 'seed'
  | 'evalEvery'
  | 'checkpointEvery'
>;

export function trialTrainSettings(spec: TrialSpec): TrialTrainSettings {
  const method = spec.point?.method;
  const optimizer = spec.point?.optimizer;
  if (!method || !optimizer) throw new Error(`trial ${spec.trialId}: the lease carries no settings`);
  return {
    method: trialMethod(method),
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

/** Only the fields of the chosen method: a sweep point carries every field of the base settings. */
function trialMethod(m: MethodSettings): MethodOptions {
  switch (methodFromProto(m.method)) {
    case 'p_tuning':
      return { method: 'p_tuning', encoder: encoderFromProto(m.encoderType), encoderHiddenSize: m.encoderHiddenSize || undefined };
    case 'prefix_tuning':
      return { method: 'prefix_tuning', prefixProjection: m.prefixProjection, encoderHiddenSize: m.encoderHiddenSize || undefined };
    default:
      return { method: 'prompt_tuning' };
  }
}

/** UNSPECIFIED is the documented default, sample-vocab; FROM_PROMPT has no engine form yet. */
function promptInit(method: InitMethod, text: string): PromptInit {
  const kind = method === InitMethod.UNSPECIFIED ? 'sample-vocab' : initToEngine(method);
  switch (kind) {
    case undefined:
      throw new Error(`init ${InitMethod[method] ?? method} is not supported by this worker`);
    case 'text':
      return { kind, text };
    default:
      return { kind };
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
