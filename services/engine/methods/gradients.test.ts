import { describe, expect, it } from 'vitest';
import { compareWithFiniteDifferences } from '../graph/gradient-check.js';
import { buildTrainingGraph, GRAPH_IO } from '../graph/decoder-graph.js';
import { GraphSession, type HostTensor } from '../graph/run.js';
import { createMethod } from './create.js';
import { graphSource } from './graph-source.js';
import type { MethodOptions } from './method.js';
import { batchMask, batchTokens, randomFeeds, tinyConfig, tinyWeights, tokens } from './test-model.js';
import { decoderModelFromLlama } from '../model/llama.js';

const P = 3;
const cases: { name: string; options: MethodOptions; entries: number }[] = [
  { name: 'P-tuning, MLP encoder', options: { method: 'p_tuning', encoder: 'mlp', encoderHiddenSize: 10 }, entries: 16 },
  {
    name: 'P-tuning, bidirectional 2-layer LSTM encoder',
    options: { method: 'p_tuning', encoder: 'lstm', encoderHiddenSize: 5 },
    entries: 8,
  },
  { name: 'prefix tuning', options: { method: 'prefix_tuning' }, entries: 48 },
  {
    name: 'prefix tuning with projection',
    options: { method: 'prefix_tuning', prefixProjection: true, encoderHiddenSize: 6 },
    entries: 16,
  },
];

describe('whole-model loss gradients w.r.t. every method parameter vs central finite differences (float64, tiny GQA model)', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const method = createMethod(c.options, tinyConfig, P);
      const { graph, trainable } = buildTrainingGraph(decoderModelFromLlama(tinyWeights), {
        batch: 2,
        seqLen: 6,
        dtype: 'float64',
        ...graphSource(method),
      });
      expect(trainable.map((t) => t.name)).toEqual(method.parameters.map((p) => p.name));
      const session = await GraphSession.create(graph);
      try {
        const feeds: Record<string, HostTensor> = {
          [GRAPH_IO.tokens]: tokens(batchTokens),
          [GRAPH_IO.lossMask]: { data: Float64Array.from(batchMask.flat()), dims: [2, 6] },
          ...randomFeeds(method.parameters, 7),
        };
        const gradOutputs = Object.fromEntries(method.parameters.map((p) => [p.name, `${GRAPH_IO.gradPrefix}${p.name}`]));
        const { maxError, checked } = await compareWithFiniteDifferences(session, GRAPH_IO.loss, gradOutputs, feeds, {
          entries: c.entries,
        });
        expect(checked).toBeGreaterThanOrEqual(method.parameters.length);
        console.log(`${c.name}: ${checked} entries, max relative error ${maxError.toExponential(2)}`);
        expect(maxError).toBeLessThan(1e-6);
      } finally {
        await session.release();
      }
    });
  }
});

describe('float32 graphs (onnxruntime "all" optimizations) give the float64 loss and gradients', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const method = createMethod(c.options, tinyConfig, P);
      const params = randomFeeds(method.parameters, 9);
      const results = await Promise.all(
        (['float32', 'float64'] as const).map(async (dtype) => {
          const { graph } = buildTrainingGraph(decoderModelFromLlama(tinyWeights), { batch: 2, seqLen: 6, dtype, ...graphSource(method) });
          const session = await GraphSession.create(graph);
          try {
            const cast = (t: HostTensor): HostTensor => ({
              data: dtype === 'float32' ? Float32Array.from(t.data as Float64Array) : t.data,
              dims: t.dims,
            });
            return await session.run({
              [GRAPH_IO.tokens]: tokens(batchTokens),
              [GRAPH_IO.lossMask]: cast({ data: Float64Array.from(batchMask.flat()), dims: [2, 6] }),
              ...Object.fromEntries(Object.entries(params).map(([k, v]) => [k, cast(v)])),
            });
          } finally {
            await session.release();
          }
        }),
      );
      const [f32, f64] = results;
      expect(Math.abs((f32[GRAPH_IO.loss].data[0] as number) - (f64[GRAPH_IO.loss].data[0] as number))).toBeLessThan(1e-5);
      for (const p of method.parameters) {
        const a = f32[`${GRAPH_IO.gradPrefix}${p.name}`].data as Float32Array;
        const b = f64[`${GRAPH_IO.gradPrefix}${p.name}`].data as Float64Array;
        const scale = Math.max(1e-3, ...Array.from(b, Math.abs));
        let diff = 0;
        for (let i = 0; i < b.length; i++) diff = Math.max(diff, Math.abs(a[i] - b[i]));
        expect(diff / scale, p.name).toBeLessThan(1e-4);
      }
    });
  }
});
