/** Prompt tuning: the stored tensor is itself the trainable parameter, `prompt_embeddings` [P, dim]. */
import { initialPrompt } from '../prompt/prompt-init.js';
import { PROMPT_TENSOR } from '../prompt/prompt-file.js';
import type { TrainingMethod } from './method.js';

export function promptTuningMethod(numVirtualTokens: number, dim: number): TrainingMethod {
  return {
    spec: { method: 'prompt_tuning' },
    numVirtualTokens,
    placement: 'virtual-tokens',
    storedWidth: dim,
    parameters: [{ name: PROMPT_TENSOR, shape: [numVirtualTokens, dim] }],
    encode: (_g, [prompt]) => prompt,
    initialParameters: async (init, model, rng) => ({ [PROMPT_TENSOR]: await initialPrompt(init, model, numVirtualTokens, rng) }),
  };
}
