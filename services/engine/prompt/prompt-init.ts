/**
 * Initial values of the trainable prompt embeddings [P, dim], as PEFT's PromptTuningInit does:
 *  - `random`: independent normal draws with the standard deviation of the model's own embedding
 *    matrix (PEFT uses N(0, 1), which is far off the scale of a small model's embeddings);
 *  - `sample-vocab`: P embedding rows at token ids drawn uniformly from the whole vocabulary, with
 *    replacement (PEFT SAMPLE_VOCAB);
 *  - `text:<string>`: the embedding rows of the text's tokens, repeated or cut to P (PEFT TEXT).
 *    The text is encoded without BOS and with the dummy-prefix space, i.e. exactly as the same words
 *    would be tokenized in the middle of an input ("text:happy" gives the tokens of " happy");
 *  - `from:<file>`: `prompt_embeddings` of an existing prompt file (same P and dim).
 */
import type { LoadedModel } from '../model/load-model.js';
import { embeddingTable, type F32Tensor } from '../model/weights.js';
import type { Rng } from '../model/rng.js';
import type { TextTokenizer } from '../tokenizer/text-tokenizer.js';
import { readPromptFor } from './prompt-file.js';

export type PromptInit = { kind: 'random' } | { kind: 'sample-vocab' } | { kind: 'text'; text: string } | { kind: 'from'; path: string };

export const promptInitForms = ['random', 'sample-vocab', 'text:<string>', 'from:<prompt file>'] as const;

export function parsePromptInit(spec: string): PromptInit {
  if (spec === 'random' || spec === 'sample-vocab') return { kind: spec };
  if (spec.startsWith('text:')) {
    const text = spec.slice('text:'.length);
    if (text.trim() === '') throw new Error(`init "${spec}": the text after "text:" is empty`);
    return { kind: 'text', text };
  }
  if (spec.startsWith('from:')) {
    const path = spec.slice('from:'.length);
    if (path === '') throw new Error(`init "${spec}": the prompt file after "from:" is missing`);
    return { kind: 'from', path };
  }
  throw new Error(`unknown init "${spec}": use one of ${promptInitForms.join(', ')}`);
}

export function formatPromptInit(init: PromptInit): string {
  switch (init.kind) {
    case 'text':
      return `text:${init.text}`;
    case 'from':
      return `from:${init.path}`;
    default:
      return init.kind;
  }
}

/** Standard deviation of all entries of a tensor (float64 accumulation). */
function stdOf(data: Float32Array): number {
  let sum = 0;
  let sumSq = 0;
  for (let i = 0; i < data.length; i++) {
    sum += data[i];
    sumSq += data[i] * data[i];
  }
  const mean = sum / data.length;
  return Math.sqrt(Math.max(0, sumSq / data.length - mean * mean));
}

/** `scale`: the model's embedding scale (Gemma's √dim), so the prompt starts at the size real tokens enter with. */
export function randomPrompt(virtualTokens: number, embedding: F32Tensor, rng: Rng, scale = 1): Float32Array {
  return rng.fillNormal(new Float32Array(virtualTokens * embedding.dims[1]), stdOf(embedding.data) * scale);
}

/**
 * The rows the tokens enter the first layer with: embedding rows times the model's embedding
 * scale (Gemma's √dim, which transformers applies inside the embedding module — PEFT's text init
 * reads rows through that module too). Virtual tokens are never scaled again in the graph.
 */
export function promptFromTokenRows(tokenIds: readonly number[], embedding: F32Tensor, scale = 1): Float32Array {
  const [vocab, dim] = embedding.dims;
  const out = new Float32Array(tokenIds.length * dim);
  tokenIds.forEach((id, row) => {
    if (!Number.isInteger(id) || id < 0 || id >= vocab) throw new Error(`token id ${id} is outside the vocabulary 0..${vocab - 1}`);
    out.set(embedding.data.subarray(id * dim, (id + 1) * dim), row * dim);
  });
  if (scale !== 1) for (let i = 0; i < out.length; i++) out[i] *= Math.fround(scale);
  return out;
}

export function sampleVocabTokenIds(virtualTokens: number, vocabSize: number, rng: Rng): number[] {
  return Array.from({ length: virtualTokens }, () => rng.nextInt(vocabSize));
}

/** The text's token ids, repeated or cut to exactly `virtualTokens`. */
export function textTokenIds(text: string, virtualTokens: number, tokenizer: TextTokenizer): number[] {
  const ids = tokenizer.encode(text, { addBos: false });
  if (ids.length === 0) throw new Error(`init text "${text}" encodes to no tokens`);
  return Array.from({ length: virtualTokens }, (_, i) => ids[i % ids.length]);
}

/** The initial [P, dim] prompt for `init`; `random` and `sample-vocab` draw from `rng`. */
export async function initialPrompt(init: PromptInit, model: LoadedModel, virtualTokens: number, rng: Rng): Promise<Float32Array> {
  const embedding = embeddingTable(model);
  const scale = model.spec.embedding.scale ?? 1;
  switch (init.kind) {
    case 'random':
      return randomPrompt(virtualTokens, embedding, rng, scale);
    case 'sample-vocab':
      return promptFromTokenRows(sampleVocabTokenIds(virtualTokens, embedding.dims[0], rng), embedding, scale);
    case 'text':
      return promptFromTokenRows(textTokenIds(init.text, virtualTokens, model.tokenizer), embedding, scale);
    case 'from':
      return (await readPromptFor(init.path, embedding.dims[1], virtualTokens)).embeddings;
  }
}
