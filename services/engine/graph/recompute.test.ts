import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMethod } from '../methods/create.js';
import { graphSource } from '../methods/graph-source.js';
import type { MethodOptions } from '../methods/method.js';
import { batchMask, batchTokens, randomFeeds, tinyWeights, tokens } from '../methods/test-model.js';
import { writeHfModel } from '../model/hf/generate-hf.js';
import { decoderModelFromLlama } from '../model/llama.js';
import { loadModel } from '../model/load-model.js';
import type { DecoderModel } from '../model/weights.js';
import { buildTrainingGraph, GRAPH_IO, type TrainingGraphOptions } from './decoder-graph.js';
import { GraphSession, type HostTensor } from './run.js';

/**
 * Recomputation (gradient checkpointing) runs the same float ops as keeping the activations:
 * loss and every gradient are bit-identical, in float32 and float64, for prompt and prefix
 * tuning (prefix keys/values enter every recomputed layer), with 16-bit weights too, and on a
 * family with GQA and q/k norms.
 */
const P = 3;
const methods: MethodOptions[] = [
  { method: 'prompt_tuning' },
  { method: 'prefix_tuning' },
  { method: 'p_tuning', encoder: 'mlp', encoderHiddenSize: 6 },
];

async function outputs(
  model: DecoderModel,
  o: Omit<TrainingGraphOptions, 'batch' | 'seqLen'>,
  params: Record<string, HostTensor>,
): Promise<{ graphNodes: number; out: Record<string, HostTensor> }> {
  const { graph } = buildTrainingGraph(model, { batch: 2, seqLen: 6, ...o });
  const session = await GraphSession.create(graph);
  try {
    const dtype = o.dtype ?? 'float32';
    const floats = (t: HostTensor): HostTensor => ({
      data: dtype === 'float32' ? Float32Array.from(t.data as Float64Array) : t.data,
      dims: t.dims,
    });
    const feeds = {
      [GRAPH_IO.tokens]: tokens(batchTokens),
      [GRAPH_IO.lossMask]: floats({ data: Float64Array.from(batchMask.flat()), dims: [2, 6] }),
      ...Object.fromEntries(Object.entries(params).map(([k, v]) => [k, floats(v)])),
    };
    return { graphNodes: graph.nodes.length, out: await session.run(feeds) };
  } finally {
    await session.release();
  }
}

async function expectSameGradients(
  model: DecoderModel,
  method: MethodOptions,
  o: Omit<TrainingGraphOptions, 'batch' | 'seqLen'>,
): Promise<void> {
  const m = createMethod(method, model.spec, P);
  const params = randomFeeds(m.parameters, 5);
  const kept = await outputs(model, { ...o, ...graphSource(m) }, params);
  const recomputed = await outputs(model, { ...o, ...graphSource(m), recompute: true }, params);
  // the layers' forward nodes are emitted a second time
  expect(recomputed.graphNodes).toBeGreaterThan(kept.graphNodes + model.spec.nLayers * 10);
  for (const name of [GRAPH_IO.loss, ...m.parameters.map((p) => `${GRAPH_IO.gradPrefix}${p.name}`)]) {
    expect(Array.from(recomputed.out[name].data as Float32Array), name).toEqual(Array.from(kept.out[name].data as Float32Array));
  }
}

describe('recompute', () => {
  const tiny = decoderModelFromLlama(tinyWeights);
  for (const method of methods) {
    for (const dtype of ['float32', 'float64'] as const) {
      it(`${method.method}, ${dtype}: loss and gradients bit-identical with and without recomputation`, () =>
        expectSameGradients(tiny, method, { dtype }));
    }
  }
  it('with 16-bit weights (each recomputed layer widens its weights again)', () =>
    expectSameGradients(tiny, methods[1], { weightsHeld: 'f16' }));

  describe('Qwen3 (GQA, q/k norms)', () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'ptune-recompute-'));
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });
    it('prompt and prefix tuning: bit-identical', async () => {
      await writeHfModel(join(dir, 'qwen3'), { family: 'qwen3', preset: 'tiny', seed: 2 });
      const model = await loadModel(join(dir, 'qwen3'));
      for (const method of methods.slice(0, 2)) await expectSameGradients(model, method, {});
    });
  });
});
