/**
 * A training checkpoint: everything that determines the rest of a run, so that resuming from it
 * gives a final prompt bit-identical to an uninterrupted run.
 */
import type { AdamWState, ParameterSet } from './adamw.js';
import type { SamplerState } from '../data/sampler.js';
import type { EvalMetrics } from './evaluate.js';
import type { ScheduleName } from './schedule.js';
import type { MethodName } from '../methods/method.js';

/** Settings a resumed run must share with the run that wrote the checkpoint. */
export interface RunIdentity {
  modelFingerprint: string;
  trainDigest: string;
  method: MethodName;
  /** the method's own settings (encoder, hidden size, projection) as canonical JSON; absent for prompt tuning */
  methodSettings?: string;
  virtualTokens: number;
  init: string;
  seed: number;
  steps: number;
  lr: number;
  schedule: ScheduleName;
  warmupSteps: number;
  weightDecay: number;
  gradClip: number;
  batchSize: number;
}

export interface TrainCheckpoint {
  /** optimizer steps completed */
  step: number;
  identity: RunIdentity;
  params: ParameterSet;
  optimizer: AdamWState;
  data: SamplerState;
  /** training loss of every completed step (for curves and summaries) */
  losses: number[];
  /** held-out metrics of the initial prompt, when the run has an eval set */
  evalBefore?: EvalMetrics;
}

/** Throws, naming every differing field, when a checkpoint belongs to another run. */
export function assertSameRun(checkpoint: RunIdentity, current: RunIdentity): void {
  const diffs = (Object.keys(current) as (keyof RunIdentity)[])
    .filter((k) => checkpoint[k] !== current[k])
    .map((k) => `${k}: checkpoint ${JSON.stringify(checkpoint[k])}, now ${JSON.stringify(current[k])}`);
  if (diffs.length > 0) throw new Error(`the checkpoint belongs to a different run (${diffs.join('; ')})`);
}
