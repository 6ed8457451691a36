import { describe, expect, it } from 'vitest';
import { buildInferenceGraph, GRAPH_IO } from '../graph/decoder-graph.js';
import { GraphSession, type HostTensor } from '../graph/run.js';
import { graphSource } from './graph-source.js';
import { prefixFromTokens } from './prefix-from-tokens.js';
import { servingMethod } from './serving.js';
import { decoderModelFromLlama } from '../model/llama.js';
import { tinyConfig, tinyWeights, tokens } from './test-model.js';

async function logits(graph: Parameters<typeof GraphSession.create>[0], feeds: Record<string, HostTensor>): Promise<Float32Array> {
  const session = await GraphSession.create(graph);
  try {
    return (await session.run(feeds, [GRAPH_IO.logits]))[GRAPH_IO.logits].data as Float32Array;
  } finally {
    await session.release();
  }
}

describe('prefixFromTokens (two-layer GQA model)', () => {
  it("serving the model's own key/value cache of some tokens equals prepending those tokens", async () => {
    const prefixTokens = [4, 11, 2];
    const rest = [1, 5, 7, 3, 9];
    const stored = await prefixFromTokens(decoderModelFromLlama(tinyWeights), prefixTokens);
    const served = servingMethod('past-key-values', prefixTokens.length, tinyConfig);
    const [param] = served.parameters;
    const withPrefix = await logits(
      buildInferenceGraph(decoderModelFromLlama(tinyWeights), { batch: 1, seqLen: rest.length, ...graphSource(served) }).graph,
      {
        [GRAPH_IO.tokens]: tokens([rest]),
        [param.name]: { data: stored, dims: param.shape },
      },
    );
    const plain = await logits(
      buildInferenceGraph(decoderModelFromLlama(tinyWeights), { batch: 1, seqLen: prefixTokens.length + rest.length }).graph,
      {
        [GRAPH_IO.tokens]: tokens([[...prefixTokens, ...rest]]),
      },
    );
    const expected = plain.subarray(prefixTokens.length * tinyConfig.vocabSize);
    expect(withPrefix.length).toBe(expected.length);
    let maxDiff = 0;
    for (let i = 0; i < expected.length; i++) maxDiff = Math.max(maxDiff, Math.abs(withPrefix[i] - expected[i]));
    expect(maxDiff).toBeLessThan(1e-5);
  });
});
