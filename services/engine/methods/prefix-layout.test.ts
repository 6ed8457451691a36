import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../graph/builder.js';
import { buildInferenceGraph, GRAPH_IO } from '../graph/decoder-graph.js';
import { GraphSession, type HostTensor } from '../graph/run.js';
import { generateLlama } from '../model/generate.js';
import { headSize, type LlamaConfig } from '../model/llama.js';
import { graphSource } from './graph-source.js';
import { kvDim, prefixLayers, prefixOffset, prefixWidth } from './prefix-layout.js';
import { servingMethod } from './serving.js';
import { tinyConfig, tokens } from './test-model.js';
import { decoderModelFromLlama } from '../model/llama.js';

async function run(g: GraphBuilder, feeds: Record<string, HostTensor>): Promise<Record<string, HostTensor>> {
  const session = await GraphSession.create(g);
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

describe('prefix layout (PEFT: row viewed as [layers·2, nKvHeads, headSize], layer l = (key 2l, value 2l+1))', () => {
  it('counts KV heads for GQA: width layers·2·nKvHeads·headSize', () => {
    expect(kvDim(tinyConfig)).toBe(2 * 4);
    expect(prefixWidth(tinyConfig)).toBe(2 * 2 * 8);
  });

  it('prefixLayers puts stored entry ((2l+kv)·nKv + h)·hs + d of row p at layer l key/value [h, p, d]', async () => {
    const c = tinyConfig;
    const P = 3;
    const hs = headSize(c);
    const g = new GraphBuilder('layout');
    const stored = g.input('stored', 'float64', [P, prefixWidth(c)]);
    prefixLayers(g, stored, c).forEach(({ key, value }, l) => {
      g.output(key, `key${l}`);
      g.output(value, `value${l}`);
    });
    const data = Float64Array.from({ length: P * prefixWidth(c) }, (_, i) => i);
    const out = await run(g, { stored: { data, dims: [P, prefixWidth(c)] } });
    for (let l = 0; l < c.nLayers; l++) {
      for (const kv of [0, 1] as const) {
        const got = out[`${kv === 0 ? 'key' : 'value'}${l}`];
        expect(got.dims).toEqual([c.nKvHeads, P, hs]);
        for (let h = 0; h < c.nKvHeads; h++)
          for (let p = 0; p < P; p++)
            for (let d = 0; d < hs; d++) {
              expect(got.data[(h * P + p) * hs + d]).toBe(p * prefixWidth(c) + prefixOffset(c, l, kv, h, d));
            }
      }
    }
  });

  it("a prefix holding the model's own keys (RoPE applied, rotate-half layout) and values of tokens equals prepending those tokens", async () => {
    // one layer, so the layer's keys and values of the prefix tokens depend on their embeddings alone
    const c: LlamaConfig = { ...tinyConfig, nLayers: 1 };
    const w = generateLlama(c, 5, { tiedClassifier: false });
    const hs = headSize(c);
    const prefixTokens = [7, 3];
    const rest = [1, 5, 9, 2];
    const stored = new Float64Array(prefixTokens.length * prefixWidth(c));
    prefixTokens.forEach((id, pos) => {
      const x = Array.from(w.tokenEmbedding.data.subarray(id * c.dim, (id + 1) * c.dim));
      const rms = Math.sqrt(x.reduce((s, v) => s + v * v, 0) / c.dim + c.normEps);
      const h = x.map((v, i) => (v / rms) * w.layers[0].attnNorm.data[i]);
      const project = (m: Float32Array, row: number): number => h.reduce((s, v, i) => s + v * m[row * c.dim + i], 0);
      for (let head = 0; head < c.nKvHeads; head++) {
        // llama2.c RoPE on adjacent pairs (x[2i], x[2i+1]), then stored in halves: pair element 0 → i, element 1 → hs/2 + i
        for (let i = 0; i < hs / 2; i++) {
          const angle = pos * Math.pow(c.ropeTheta, -(2 * i) / hs);
          const [a, b] = [project(w.layers[0].wk.data, head * hs + 2 * i), project(w.layers[0].wk.data, head * hs + 2 * i + 1)];
          stored[pos * prefixWidth(c) + prefixOffset(c, 0, 0, head, i)] = a * Math.cos(angle) - b * Math.sin(angle);
          stored[pos * prefixWidth(c) + prefixOffset(c, 0, 0, head, hs / 2 + i)] = a * Math.sin(angle) + b * Math.cos(angle);
        }
        for (let d = 0; d < hs; d++)
          stored[pos * prefixWidth(c) + prefixOffset(c, 0, 1, head, d)] = project(w.layers[0].wv.data, head * hs + d);
      }
    });
    const served = servingMethod('past-key-values', prefixTokens.length, c);
    const withPrefix = await run(
      buildInferenceGraph(decoderModelFromLlama(w), { batch: 1, seqLen: rest.length, dtype: 'float64', ...graphSource(served) }).graph,
      { [GRAPH_IO.tokens]: tokens([rest]), [served.parameters[0].name]: { data: stored, dims: served.parameters[0].shape } },
    );
    const plain = await run(
      buildInferenceGraph(decoderModelFromLlama(w), { batch: 1, seqLen: prefixTokens.length + rest.length, dtype: 'float64' }).graph,
      {
        [GRAPH_IO.tokens]: tokens([[...prefixTokens, ...rest]]),
      },
    );
    const V = c.vocabSize;
    const expected = (plain.logits.data as Float64Array).subarray(prefixTokens.length * V);
    const got = withPrefix.logits.data as Float64Array;
    expect(got.length).toBe(expected.length);
    let maxDiff = 0;
    for (let i = 0; i < got.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i] - expected[i]));
    expect(maxDiff).toBeLessThan(1e-10);
  });
});
