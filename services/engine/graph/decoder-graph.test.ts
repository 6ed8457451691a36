import { describe, expect, it } from 'vitest';
import { generateLlama } from '../model/generate.js';
import type { LlamaConfig, LlamaWeights } from '../model/llama.js';
import { Rng } from '../model/rng.js';
import type { GraphBuilder } from './builder.js';
import { compareWithFiniteDifferences } from './gradient-check.js';
import {
  buildInferenceGraph,
  buildTrainingGraph,
  type DecoderGraphOptions,
  GRAPH_IO,
  type PastKeyValues,
  promptTuning,
} from './decoder-graph.js';
import { GraphSession, type HostTensor } from './run.js';
import { decoderModelFromLlama } from '../model/llama.js';

// GQA (2 query heads per KV head), two layers, tiny vocab; random weights from the seeded generator
const config: LlamaConfig = {
  dim: 16,
  hiddenDim: 24,
  nLayers: 2,
  nHeads: 4,
  nKvHeads: 2,
  vocabSize: 13,
  contextLength: 64,
  normEps: 1e-5,
  ropeTheta: 10000,
};
const weights: LlamaWeights = generateLlama(config, 42, { tiedClassifier: false });

const tokens = (rows: number[][]): HostTensor => ({
  data: BigInt64Array.from(rows.flat().map(BigInt)),
  dims: [rows.length, rows[0].length],
});
const floats = (dtype: 'float32' | 'float64', values: number[], dims: number[]): HostTensor => ({
  data: dtype === 'float32' ? Float32Array.from(values) : Float64Array.from(values),
  dims,
});
const randomValues = (n: number, seed: number, std = 0.5): number[] => {
  const rng = Rng.fromSeed(seed);
  return Array.from({ length: n }, () => std * (2 * rng.nextFloat() - 1));
};

async function run(graph: GraphBuilder, feeds: Record<string, HostTensor>): Promise<Record<string, HostTensor>> {
  const session = await GraphSession.create(graph);
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

// batch of two right-padded examples: lengths 6 and 4 (pad id 0), loss on the "output" tokens only
const P = 3;
const batchTokens = [
  [1, 5, 7, 3, 9, 4],
  [1, 8, 2, 6, 0, 0],
];
const batchMask = [
  [0, 0, 0, 1, 1, 1],
  [0, 0, 1, 1, 0, 0],
];

/** Prefix tuning as a test source: trainable per-layer keys and values. */
const prefixKv = (length: number, dtype: 'float32' | 'float64'): PastKeyValues => ({
  length,
  build(g, { spec: c }) {
    const hs = c.headDim;
    const layers = Array.from({ length: c.nLayers }, (_, l) => ({
      key: g.input(`prefix_key_${l}`, dtype, [c.nKvHeads, length, hs]),
      value: g.input(`prefix_value_${l}`, dtype, [c.nKvHeads, length, hs]),
    }));
    return { layers, trainable: layers.flatMap((l) => [l.key, l.value]) };
  },
});

describe('llama graph on a tiny random GQA model', () => {
  it('gradient of the loss w.r.t. prompt_embeddings matches central finite differences (float64, padded batch)', async () => {
    const { graph, trainable } = buildTrainingGraph(decoderModelFromLlama(weights), {
      batch: 2,
      seqLen: 6,
      dtype: 'float64',
      virtualTokens: promptTuning(P),
    });
    expect(trainable.map((t) => t.name)).toEqual(['prompt_embeddings']);
    const session = await GraphSession.create(graph);
    const feeds = {
      [GRAPH_IO.tokens]: tokens(batchTokens),
      [GRAPH_IO.lossMask]: floats('float64', batchMask.flat(), [2, 6]),
      prompt_embeddings: floats('float64', randomValues(P * config.dim, 1), [P, config.dim]),
    };
    const { maxError, checked } = await compareWithFiniteDifferences(
      session,
      GRAPH_IO.loss,
      { prompt_embeddings: 'grad_prompt_embeddings' },
      feeds,
    );
    await session.release();
    expect(checked).toBe(P * config.dim);
    expect(maxError).toBeLessThan(1e-6);
  });

  it('gradients w.r.t. prefix keys/values and prompt together match finite differences (float64)', async () => {
    const { graph, trainable } = buildTrainingGraph(decoderModelFromLlama(weights), {
      batch: 2,
      seqLen: 6,
      dtype: 'float64',
      virtualTokens: promptTuning(2),
      pastKeyValues: prefixKv(2, 'float64'),
    });
    const session = await GraphSession.create(graph);
    const feeds: Record<string, HostTensor> = {
      [GRAPH_IO.tokens]: tokens(batchTokens),
      [GRAPH_IO.lossMask]: floats('float64', batchMask.flat(), [2, 6]),
    };
    trainable.forEach(
      (t, i) =>
        (feeds[t.name] = floats(
          'float64',
          randomValues(
            t.shape.reduce((a, b) => a * b, 1),
            10 + i,
          ),
          [...t.shape],
        )),
    );
    const gradOutputs = Object.fromEntries(trainable.map((t) => [t.name, `grad_${t.name}`]));
    const { maxError } = await compareWithFiniteDifferences(session, GRAPH_IO.loss, gradOutputs, feeds, { entries: 12 });
    await session.release();
    expect(maxError).toBeLessThan(1e-6);
  });

  it('float32 graph with ORT "all" optimizations gives the float64 loss and gradient', async () => {
    const prompt = randomValues(P * config.dim, 1);
    const results = await Promise.all(
      (['float32', 'float64'] as const).map(async (dtype) => {
        const { graph } = buildTrainingGraph(decoderModelFromLlama(weights), {
          batch: 2,
          seqLen: 6,
          dtype,
          virtualTokens: promptTuning(P),
        });
        return run(graph, {
          [GRAPH_IO.tokens]: tokens(batchTokens),
          [GRAPH_IO.lossMask]: floats(dtype, batchMask.flat(), [2, 6]),
          prompt_embeddings: floats(dtype, prompt, [P, config.dim]),
        });
      }),
    );
    const [f32, f64] = results.map((r) => ({ loss: r.loss.data[0] as number, grad: r.grad_prompt_embeddings.data as ArrayLike<number> }));
    expect(Math.abs(f32.loss - f64.loss)).toBeLessThan(1e-5);
    const scale = Math.max(...Array.from(f64.grad, Math.abs));
    expect(maxAbsDiff(f32.grad, f64.grad) / scale).toBeLessThan(1e-4);
  });

  it('loss, per-example NLL, counts and predictions agree with the inference logits', async () => {
    const opts: DecoderGraphOptions = { batch: 2, seqLen: 6, dtype: 'float64', virtualTokens: promptTuning(P) };
    const prompt = floats('float64', randomValues(P * config.dim, 2), [P, config.dim]);
    const train = await run(buildTrainingGraph(decoderModelFromLlama(weights), opts).graph, {
      [GRAPH_IO.tokens]: tokens(batchTokens),
      [GRAPH_IO.lossMask]: floats('float64', batchMask.flat(), [2, 6]),
      prompt_embeddings: prompt,
    });
    const logits = (
      await run(buildInferenceGraph(decoderModelFromLlama(weights), opts).graph, {
        [GRAPH_IO.tokens]: tokens(batchTokens),
        prompt_embeddings: prompt,
      })
    ).logits.data as Float64Array;
    const V = config.vocabSize;
    const S = P + 6;
    let total = 0;
    let count = 0;
    batchTokens.forEach((row, b) => {
      let nll = 0;
      for (let t = 1; t < 6; t++) {
        const at = (b * S + P + t - 1) * V; // token t is predicted from sequence position P+t-1
        const z = logits.subarray(at, at + V);
        const lse = Math.log(z.reduce((s, v) => s + Math.exp(v), 0));
        if (batchMask[b][t]) nll += lse - z[row[t]];
        expect(Number((train.predictions.data as BigInt64Array)[b * 5 + t - 1])).toBe(z.indexOf(Math.max(...z)));
      }
      const n = batchMask[b].slice(1).reduce((a, v) => a + v, 0);
      expect(train.example_nll.data[b] as number).toBeCloseTo(nll, 10);
      expect(train.example_tokens.data[b]).toBe(n);
      total += nll;
      count += n;
    });
    expect(train.loss.data[0] as number).toBeCloseTo(total / count, 10);

    const evalGraph = buildTrainingGraph(decoderModelFromLlama(weights), { ...opts, withGradients: false }).graph;
    expect(evalGraph.outputs.map((o) => o.name)).toEqual([
      GRAPH_IO.loss,
      GRAPH_IO.exampleNll,
      GRAPH_IO.exampleTokens,
      GRAPH_IO.predictions,
    ]);
    const evaluated = await run(evalGraph, {
      [GRAPH_IO.tokens]: tokens(batchTokens),
      [GRAPH_IO.lossMask]: floats('float64', batchMask.flat(), [2, 6]),
      prompt_embeddings: prompt,
    });
    expect(evaluated.loss.data[0]).toBe(train.loss.data[0]);
    const lean = buildTrainingGraph(decoderModelFromLlama(weights), { ...opts, withPredictions: false }).graph;
    expect(lean.outputs.map((o) => o.name)).toEqual([GRAPH_IO.loss, 'grad_prompt_embeddings', GRAPH_IO.exampleNll, GRAPH_IO.exampleTokens]);
  });

  it('virtual tokens equal to real token embeddings reproduce the plain model with those tokens prepended', async () => {
    const virtualIds = [4, 11];
    const row = (id: number): number[] => Array.from(weights.tokenEmbedding.data.subarray(id * config.dim, (id + 1) * config.dim));
    const seq = [1, 5, 7, 3];
    const withPrompt = await run(
      buildInferenceGraph(decoderModelFromLlama(weights), { batch: 1, seqLen: 4, dtype: 'float64', virtualTokens: promptTuning(2) }).graph,
      { [GRAPH_IO.tokens]: tokens([seq]), prompt_embeddings: floats('float64', virtualIds.flatMap(row), [2, config.dim]) },
    );
    const plain = await run(buildInferenceGraph(decoderModelFromLlama(weights), { batch: 1, seqLen: 6, dtype: 'float64' }).graph, {
      [GRAPH_IO.tokens]: tokens([[...virtualIds, ...seq]]),
    });
    expect(withPrompt.logits.dims).toEqual([1, 6, config.vocabSize]);
    expect(maxAbsDiff(withPrompt.logits.data as Float64Array, plain.logits.data as Float64Array)).toBeLessThan(1e-12);
  });

  it('P = 0 builds the plain model; padding does not change real positions', async () => {
    const zeroPrompt = buildInferenceGraph(decoderModelFromLlama(weights), { batch: 2, seqLen: 6, virtualTokens: promptTuning(0) });
    expect(zeroPrompt.graph.inputs.filter((i) => !zeroPrompt.graph.bound.has(i.name)).map((i) => i.name)).toEqual([GRAPH_IO.tokens]);
    const padded = (await run(zeroPrompt.graph, { [GRAPH_IO.tokens]: tokens([batchTokens[0], [1, 8, 2, 6, 12, 3]]) })).logits
      .data as Float32Array;
    const alone = (
      await run(buildInferenceGraph(decoderModelFromLlama(weights), { batch: 1, seqLen: 4 }).graph, {
        [GRAPH_IO.tokens]: tokens([[1, 8, 2, 6]]),
      })
    ).logits.data as Float32Array;
    const V = config.vocabSize;
    expect(maxAbsDiff(padded.subarray(6 * V, 6 * V + 4 * V), alone)).toBeLessThan(1e-6);
  });

  it("'at-positions' logits equal the full logits at those positions", async () => {
    const opts = { batch: 2, seqLen: 6, virtualTokens: promptTuning(P) };
    const prompt = floats('float32', randomValues(P * config.dim, 3), [P, config.dim]);
    const all = (
      await run(buildInferenceGraph(decoderModelFromLlama(weights), opts).graph, {
        [GRAPH_IO.tokens]: tokens(batchTokens),
        prompt_embeddings: prompt,
      })
    ).logits.data as Float32Array;
    const at = await run(buildInferenceGraph(decoderModelFromLlama(weights), { ...opts, logits: 'at-positions' }).graph, {
      [GRAPH_IO.tokens]: tokens(batchTokens),
      prompt_embeddings: prompt,
      [GRAPH_IO.positions]: { data: BigInt64Array.from([5n, 3n]), dims: [2] },
    });
    const V = config.vocabSize;
    const S = P + 6;
    const expected = [...all.subarray((0 * S + P + 5) * V, (0 * S + P + 6) * V), ...all.subarray((1 * S + P + 3) * V, (1 * S + P + 4) * V)];
    expect(at.logits.dims).toEqual([2, V]);
    expect(maxAbsDiff(at.logits.data as Float32Array, expected)).toBeLessThan(1e-6);
  });
});
