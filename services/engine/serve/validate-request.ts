/** Checks a request against the model before it is queued; errors name the field (InferenceInputError). */
import type { LoadedModel } from '../model/load-model.js';
import { prefixWidth } from '../methods/prefix-layout.js';
import type { SamplingSettings, ServedPrompt } from './engine.js';
import { InferenceInputError } from './errors.js';

export function checkPrompt(prompt: ServedPrompt | undefined, model: LoadedModel): number {
  if (!prompt) return 0;
  const { stored } = prompt;
  const width = stored.placement === 'virtual-tokens' ? model.spec.dim : prefixWidth(model.spec);
  if (stored.width !== width || stored.tensor.length !== stored.numVirtualTokens * width || stored.numVirtualTokens < 1)
    throw new InferenceInputError(
      `prompt ${prompt.id}: a ${stored.placement} tensor [${stored.numVirtualTokens}, ${stored.width}] does not fit this model (rows of ${width})`,
    );
  return stored.numVirtualTokens;
}

export function checkTokens(field: string, ids: readonly number[], model: LoadedModel): void {
  if (ids.length === 0) throw new InferenceInputError(`${field} is empty: at least one token is needed`);
  const vocab = model.spec.vocabSize;
  const bad = ids.findIndex((id) => !Number.isInteger(id) || id < 0 || id >= vocab);
  if (bad >= 0) throw new InferenceInputError(`${field}[${bad}] = ${ids[bad]} is not a token id of this model (0..${vocab - 1})`);
}

/** Checks the sampling settings and that the sequence fits the context; the positions a request may take. */
export function checkSampling(s: SamplingSettings, promptLength: number, inputLength: number, model: LoadedModel): number {
  const context = model.spec.contextLength;
  if (!Number.isSafeInteger(s.maxTokens) || s.maxTokens < 1)
    throw new InferenceInputError(`max_tokens must be an integer ≥ 1 (got ${s.maxTokens})`);
  const need = promptLength + inputLength + s.maxTokens;
  if (need > context)
    throw new InferenceInputError(
      `max_tokens ${s.maxTokens} exceeds the context: ${promptLength} virtual + ${inputLength} prompt tokens leave ${Math.max(0, context - promptLength - inputLength)} of ${context}`,
    );
  if (!(Number.isFinite(s.temperature) && s.temperature >= 0))
    throw new InferenceInputError(`temperature must be a finite number ≥ 0 (got ${s.temperature})`);
  if (!(s.topP > 0 && s.topP <= 1)) throw new InferenceInputError(`top_p must be in (0, 1] (got ${s.topP})`);
  if (!Number.isSafeInteger(s.topK) || s.topK < 0) throw new InferenceInputError(`top_k must be an integer ≥ 0 (got ${s.topK})`);
  const empty = s.stop.findIndex((x) => typeof x !== 'string' || x.length === 0);
  if (empty >= 0) throw new InferenceInputError(`stop[${empty}] must be a non-empty string`);
  if (s.seed !== undefined && !Number.isSafeInteger(s.seed)) throw new InferenceInputError(`seed must be a safe integer (got ${s.seed})`);
  return need;
}
