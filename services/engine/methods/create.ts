import type { ModelShape } from '../model/spec.js';
import { checkMethodOptions, type MethodOptions, type TrainingMethod } from './method.js';
import { pTuningMethod } from './p-tuning.js';
import { kvDim } from './prefix-layout.js';
import { prefixTuningMethod } from './prefix-tuning.js';
import { promptTuningMethod } from './prompt-tuning.js';

/**
 * The method for a model and P virtual tokens. Default hidden sizes follow PEFT: encoder_hidden_size
 * defaults to token_dim, which is dim for P-tuning and kvDim for prefix tuning.
 */
export function createMethod(o: MethodOptions, c: ModelShape, numVirtualTokens: number): TrainingMethod {
  checkMethodOptions(o, c);
  if (!Number.isSafeInteger(numVirtualTokens) || numVirtualTokens < 1)
    throw new Error(`virtual tokens must be an integer ≥ 1 (got ${numVirtualTokens})`);
  switch (o.method) {
    case 'prompt_tuning':
      return promptTuningMethod(numVirtualTokens, c.dim);
    case 'p_tuning':
      return pTuningMethod(numVirtualTokens, c.dim, o.encoder, o.encoderHiddenSize ?? c.dim);
    case 'prefix_tuning':
      return prefixTuningMethod(numVirtualTokens, c, o.prefixProjection ?? false, o.encoderHiddenSize ?? kvDim(c));
  }
}
