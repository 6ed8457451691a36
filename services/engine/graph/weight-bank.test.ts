import { describe, expect, it } from 'vitest';
import { decoderModelFromLlama } from '../model/llama.js';
import { tinyConfig } from '../methods/test-model.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateLlama, writeGeneratedModel } from '../model/generate.js';
import { openModel } from '../model/load-model.js';
import { readAllWeights, tensorOf, weightName } from '../model/weights.js';
import { buildInferenceGraph, buildTrainingGraph, GRAPH_IO, promptTuning } from './decoder-graph.js';
import { GraphSession, type HostTensor } from './run.js';
import { serializeModel } from './serialize.js';
import { shareWeights, WeightBank } from './weight-bank.js';

const tokens = (rows: number[][]): HostTensor => ({
  data: BigInt64Array.from(rows.flat().map(BigInt)),
  dims: [rows.length, rows[0].length],
});

describe('weight bank', () => {
  it('every graph of a model (train and score in several buckets, generation) binds the same bank buffers and carries no weight', () => {
    const model = shareWeights(decoderModelFromLlama(generateLlama(tinyConfig, 7, { tiedClassifier: false })));
    const bank = WeightBank.of(model);
    const source = { virtualTokens: promptTuning(2) };
    const graphs = [
      buildTrainingGraph(model, { batch: 2, seqLen: 8, ...source }).graph,
      buildTrainingGraph(model, { batch: 4, seqLen: 16, ...source }).graph,
      buildTrainingGraph(model, { batch: 4, seqLen: 16, ...source, withGradients: false }).graph,
      buildInferenceGraph(model, { batch: 1, seqLen: 12, logits: 'at-positions', ...source }).graph,
    ];
    const bankNames = [...bank.entries()].map(([name]) => name);
    for (const g of graphs) {
      expect([...g.bound.keys()].sort()).toEqual([...bankNames].sort());
      for (const [name, t] of g.bound) expect(t.data).toBe(bank.get(name).data);
      // what stays in the model file: per-shape tables (RoPE, masks) and small constants, no weight
      const bankBuffers = new Set(bankNames.map((n) => bank.get(n).data.buffer));
      for (const init of g.initializers) {
        expect(bankNames).not.toContain(init.value.name);
        expect(bankBuffers.has(init.data.buffer)).toBe(false);
      }
    }
  });

  it('shareWeights keeps one copy: canonical q/k/v are views of the stacked rows, other tensors are the bank buffers', () => {
    const plain = decoderModelFromLlama(generateLlama(tinyConfig, 3, { tiedClassifier: true }));
    const model = shareWeights(plain);
    const bank = WeightBank.of(model);
    const stacked = bank.get('layers.1.qkv_proj.weight').data;
    for (const part of ['q_proj', 'k_proj', 'v_proj'] as const) {
      const view = tensorOf(model, weightName.layer(1, part)).data;
      expect(view.buffer).toBe(stacked.buffer);
      expect(view).toEqual(tensorOf(plain, weightName.layer(1, part)).data);
    }
    expect(bank.get('token_embedding').data).toBe(tensorOf(model, weightName.embedTokens).data);
    expect(bank.get(weightName.layer(0, 'down_proj')).data).toBe(tensorOf(model, weightName.layer(0, 'down_proj')).data);
  });

  it('a model read from a file stacks q/k/v as it reads them: the bank takes that buffer, no copy while loading', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'ptune-bank-'));
    try {
      const file = await writeGeneratedModel('tiny', 5, path.join(dir, 'tiny.gguf'));
      const opened = await openModel(file.path);
      const tensors = await readAllWeights(opened.spec, opened.weights, file.path);
      const bank = WeightBank.of({ spec: opened.spec, tensors }, 'float32', 'f32');
      const stacked = bank.get('layers.1.qkv_proj.weight').data;
      const q = tensorOf({ spec: opened.spec, tensors }, weightName.layer(1, 'q_proj')).data;
      expect(stacked.buffer).toBe(q.buffer);
      expect(stacked.byteOffset).toBe(q.byteOffset);
      expect(stacked.length).toBe((opened.spec.nHeads + 2 * opened.spec.nKvHeads) * opened.spec.headDim * opened.spec.dim);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a session reads the bank buffers themselves on every run (no copy at session build)', async () => {
    const model = shareWeights(decoderModelFromLlama(generateLlama(tinyConfig, 5, { tiedClassifier: false })));
    const session = await GraphSession.create(buildInferenceGraph(model, { batch: 1, seqLen: 4 }).graph);
    try {
      const feeds = { [GRAPH_IO.tokens]: tokens([[1, 4, 2, 7]]) };
      const before = (await session.run(feeds))[GRAPH_IO.logits].data as Float32Array;
      const head = WeightBank.of(model).get('lm_head').data;
      const saved = head.slice();
      head.fill(0);
      const zeroed = (await session.run(feeds))[GRAPH_IO.logits].data as Float32Array;
      head.set(saved);
      expect(Math.max(...Array.from(before, Math.abs))).toBeGreaterThan(0);
      expect(Array.from(zeroed)).toEqual(new Array(zeroed.length).fill(0));
      expect((await session.run(feeds))[GRAPH_IO.logits].data).toEqual(before);
    } finally {
      await session.release();
    }
  });

  it.each(['f32', 'f16'] as const)(
    'weights as initializers read from the bank (the CUDA path), %s: no weight input, no weight bytes in the model, the same loss and gradients',
    async (held) => {
      const model = shareWeights(decoderModelFromLlama(generateLlama(tinyConfig, 9, { tiedClassifier: false })));
      const { graph } = buildTrainingGraph(model, { batch: 2, seqLen: 6, virtualTokens: promptTuning(2), weightsHeld: held });
      const head = graph.bound.get('lm_head')!.data;
      const headBytes = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
      expect(Buffer.from(serializeModel(graph, { boundAsInitializers: true })).includes(headBytes)).toBe(false);
      const feeds = {
        [GRAPH_IO.tokens]: tokens([
          [1, 4, 2, 7, 3, 5],
          [2, 6, 1, 1, 9, 4],
        ]),
        [GRAPH_IO.lossMask]: { data: Float32Array.from([0, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1]), dims: [2, 6] },
        prompt_embeddings: { data: Float32Array.from({ length: 2 * tinyConfig.dim }, (_, i) => Math.sin(i)), dims: [2, tinyConfig.dim] },
      };
      const results = [];
      for (const weights of ['fed', 'initializers'] as const) {
        const session = await GraphSession.create(graph, { weights });
        try {
          expect(session.inputNames.some((n) => graph.bound.has(n))).toBe(weights === 'fed');
          results.push(await session.run(feeds, [GRAPH_IO.loss, 'grad_prompt_embeddings']));
        } finally {
          await session.release();
        }
      }
      const [fed, initializers] = results;
      expect(Number(fed[GRAPH_IO.loss].data[0])).toBeGreaterThan(0);
      expect(initializers[GRAPH_IO.loss].data).toEqual(fed[GRAPH_IO.loss].data);
      const [a, b] = [fed.grad_prompt_embeddings.data, initializers.grad_prompt_embeddings.data] as Float32Array[];
      expect(Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i])))).toBeLessThan(1e-6);
    },
  );
});
