/**
 * A prefix that is the model's own key/value cache of real tokens: run the frozen model on the
 * tokens (positions 0..P−1, nothing before them) and pack every layer's keys (after RoPE, rotate-half
 * layout) and values into PEFT's row layout. Served as a prefix, it gives exactly the model that
 * has read those tokens — the same function as prompt tuning started from the same tokens'
 * embeddings — so `sample-vocab` and `text:` mean the same thing for all three methods
 * (Li & Liang initialize prefixes with real words' activations too).
 */
import { buildInferenceGraph, GRAPH_IO } from '../graph/decoder-graph.js';
import { GraphSession, type SessionOptions } from '../graph/run.js';
import type { DecoderModel } from '../model/weights.js';
import { prefixOffset, prefixWidth } from './prefix-layout.js';

export async function prefixFromTokens(
  model: DecoderModel,
  tokenIds: readonly number[],
  options: SessionOptions = {},
): Promise<Float32Array> {
  const c = model.spec;
  const P = tokenIds.length;
  const { graph } = buildInferenceGraph(model, { batch: 1, seqLen: P, withKeyValues: true });
  const session = await GraphSession.create(graph, options);
  let out;
  try {
    const names = Array.from({ length: c.nLayers }, (_, l) => [`${GRAPH_IO.presentKey}${l}`, `${GRAPH_IO.presentValue}${l}`]).flat();
    out = await session.run({ [GRAPH_IO.tokens]: { data: BigInt64Array.from(tokenIds, BigInt), dims: [1, P] } }, names);
  } finally {
    await session.release();
  }
  const hs = c.headDim;
  const width = prefixWidth(c);
  const prefix = new Float32Array(P * width);
  for (let l = 0; l < c.nLayers; l++) {
    for (const kv of [0, 1] as const) {
      const data = out[`${kv === 0 ? GRAPH_IO.presentKey : GRAPH_IO.presentValue}${l}`].data as Float32Array; // [1, nKv, P, hs]
      for (let h = 0; h < c.nKvHeads; h++) {
        for (let p = 0; p < P; p++) {
          const from = (h * P + p) * hs;
          prefix.set(data.subarray(from, from + hs), p * width + prefixOffset(c, l, kv, h, 0));
        }
      }
    }
  }
  return prefix;
}
