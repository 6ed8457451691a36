/**
 * A training checkpoint: everything that determines the rest of a run, so that resuming from it
 * gives a final prompt bit-identical to an uninterrupted run.
 */
import type { SamplerState } from '../data/sampler.js';
import type { RunIdentity } from '../prompt/run-identity.js';
import type { EvalMetrics, ParameterSet } from '../prompt/vocabulary.js';
import type { AdamWState } from './adamw.js';

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
