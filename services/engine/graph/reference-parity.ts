/**
 * Test support: a model's logits against E's committed PyTorch references (test/reference) —
 * the ids alone, with the reference soft prompt, or with its prefix as past keys/values.
 */
import type { ReferenceFixture } from '../../../test/reference/fixtures.js';
import type { DecoderModel } from '../model/weights.js';
import { buildInferenceGraph, GRAPH_IO, type PastKeyValues, promptTuning } from './decoder-graph.js';
import type { FloatDType } from './dtype.js';
import { GraphSession, type HostTensor } from './run.js';

export type ReferenceCase = 'plain' | 'prompt' | 'prefix';

/** The reference prefix as graph inputs prefix_key_<l> / prefix_value_<l> [nKv, P, headDim], and their feeds. */
export function referencePrefix(f: ReferenceFixture, dtype: FloatDType): { source: PastKeyValues; feeds: Record<string, HostTensor> } {
  const dims = [f.nKvHeads, f.prefix.length, f.headDim];
  const feeds: Record<string, HostTensor> = {};
  f.prefix.layers.forEach((l, i) => {
    feeds[`prefix_key_${i}`] = { data: dtype === 'float32' ? l.keys : Float64Array.from(l.keys), dims };
    feeds[`prefix_value_${i}`] = { data: dtype === 'float32' ? l.values : Float64Array.from(l.values), dims };
  });
  const source: PastKeyValues = {
    length: f.prefix.length,
    build(g) {
      const layers = f.prefix.layers.map((_, i) => ({
        key: g.input(`prefix_key_${i}`, dtype, dims),
        value: g.input(`prefix_value_${i}`, dtype, dims),
      }));
      return { layers, trainable: layers.flatMap((l) => [l.key, l.value]) };
    },
  };
  return { source, feeds };
}

export const referenceTokens = (f: ReferenceFixture): HostTensor => ({
  data: BigInt64Array.from(f.ids.map(BigInt)),
  dims: [1, f.ids.length],
});

/** max |logit − reference| over every position and vocabulary entry (float32 graph). */
export async function referenceLogitError(model: DecoderModel, f: ReferenceFixture, mode: ReferenceCase): Promise<number> {
  const feeds: Record<string, HostTensor> = { [GRAPH_IO.tokens]: referenceTokens(f) };
  let extra = {};
  if (mode === 'prompt') {
    extra = { virtualTokens: promptTuning(f.prompt.length) };
    feeds.prompt_embeddings = { data: f.prompt.data, dims: [f.prompt.length, f.dim] };
  } else if (mode === 'prefix') {
    const p = referencePrefix(f, 'float32');
    extra = { pastKeyValues: p.source };
    Object.assign(feeds, p.feeds);
  }
  const { graph } = buildInferenceGraph(model, { batch: 1, seqLen: f.ids.length, ...extra });
  const session = await GraphSession.create(graph);
  let logits: Float32Array;
  try {
    logits = (await session.run(feeds, [GRAPH_IO.logits]))[GRAPH_IO.logits].data as Float32Array;
  } finally {
    await session.release();
  }
  const ref = f.logits[mode];
  if (logits.length !== ref.length) throw new Error(`${f.family} ${mode}: ${logits.length} logits for ${ref.length} reference values`);
  let worst = 0;
  for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(logits[i] - ref[i]));
  return worst;
}
