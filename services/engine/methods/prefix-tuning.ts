/**
 * Prefix tuning (PEFT's PrefixEncoder): per-layer key and value prefixes, stored as
 * `prompt_embeddings` [P, L·2·kvDim] in PEFT's layout (see prefix-layout.ts).
 *  - without projection the stored tensor is the parameter `prefix_encoder.embedding.weight`;
 *  - with `prefix_projection`: `embedding` [P, kvDim] → Linear(kvDim→h) → Tanh → Linear(h→L·2·kvDim)
 *    (`transform.0/2`); PEFT sizes the embedding by token_dim, which it sets to kvDim for
 *    grouped-query models. What is stored is the projected output, as PEFT saves it, and served
 *    exactly like a prefix trained without projection.
 * Init (no projection): `sample-vocab` and `text:` start from the model's own key/value cache of
 * those tokens (prefix-from-tokens.ts: the same function prompt tuning starts from), `random` is
 * N(0, σ²) with σ the standard deviation of the token embeddings (PEFT's N(0, 1) is far off the
 * scale of a small model), `from:<file>` loads a stored prefix of the same shape. With projection
 * the embedding is N(0, 1) (nn.Embedding's default) and the Linear layers start as PyTorch's, so
 * only `random` applies (no init can be pushed back through the MLP).
 */
import { tanh } from '../graph/ops/index.js';
import type { LoadedModel } from '../model/load-model.js';
import type { Rng } from '../model/rng.js';
import { embeddingTable } from '../model/weights.js';
import type { ParameterSet } from '../prompt/vocabulary.js';
import { sampleVocabTokenIds, textTokenIds, type PromptInit } from '../prompt/prompt-init.js';
import { readPromptFile } from '../prompt/prompt-file.js';
import type { TrainingMethod } from './method.js';
import { dense, initLinear, linearParameters, type ParameterShape } from './parameters.js';
import { prefixFromTokens } from './prefix-from-tokens.js';
import { kvDim, prefixWidth } from './prefix-layout.js';
import type { ModelShape } from '../model/spec.js';

const PREFIX = 'prefix_encoder';

function std(data: Float32Array): number {
  let sum = 0;
  let sumSq = 0;
  for (const v of data) {
    sum += v;
    sumSq += v * v;
  }
  const mean = sum / data.length;
  return Math.sqrt(Math.max(0, sumSq / data.length - mean * mean));
}

async function initialPrefix(init: PromptInit, model: LoadedModel, P: number, width: number, rng: Rng): Promise<Float32Array> {
  switch (init.kind) {
    case 'random':
      return rng.fillNormal(new Float32Array(P * width), std(embeddingTable(model).data));
    case 'sample-vocab':
      return prefixFromTokens(model, sampleVocabTokenIds(P, model.spec.vocabSize, rng));
    case 'text':
      return prefixFromTokens(model, textTokenIds(init.text, P, model.tokenizer));
    case 'from': {
      const file = await readPromptFile(init.path);
      if (file.virtualTokens !== P || file.dim !== width) {
        throw new Error(
          `${init.path}: "prompt_embeddings" is [${file.virtualTokens}, ${file.dim}]; a prefix for this model and run is [${P}, ${width}]`,
        );
      }
      return file.embeddings;
    }
  }
}

export function prefixTuningMethod(numVirtualTokens: number, c: ModelShape, projection: boolean, hidden: number): TrainingMethod {
  const width = prefixWidth(c);
  const tokenDim = kvDim(c);
  const embedding: ParameterShape = { name: `${PREFIX}.embedding.weight`, shape: [numVirtualTokens, projection ? tokenDim : width] };
  const transform = projection
    ? [...linearParameters(`${PREFIX}.transform.0`, tokenDim, hidden), ...linearParameters(`${PREFIX}.transform.2`, hidden, width)]
    : [];
  const parameters = [embedding, ...transform];
  return {
    spec: { method: 'prefix_tuning', prefixProjection: projection, encoderHiddenSize: hidden },
    numVirtualTokens,
    placement: 'past-key-values',
    storedWidth: width,
    parameters,
    encode: (g, [x, w0, b0, w2, b2]) => (projection ? dense(g, tanh(g, dense(g, x, w0, b0)), w2, b2) : x),
    async initialParameters(init, model, rng) {
      if (projection && init.kind !== 'random')
        throw new Error(`prefix projection starts from a random embedding: use --init random (got ${init.kind})`);
      const values = projection
        ? [
            rng.fillNormal(new Float32Array(numVirtualTokens * tokenDim)),
            ...initLinear(rng, tokenDim, hidden),
            ...initLinear(rng, hidden, width),
          ]
        : [await initialPrefix(init, model, numVirtualTokens, width, rng)];
      return Object.fromEntries(parameters.map((p, k) => [p.name, values[k]])) as ParameterSet;
    },
  };
}
