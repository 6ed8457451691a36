import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildStepGraph } from '../graph/decode-graph.js';
import { float16Values } from '../graph/dtype.js';
import { shareWeights, WeightBank } from '../graph/weight-bank.js';
import { generateLlama } from '../model/generate.js';
import { decoderModelFromLlama } from '../model/llama.js';
import type { LoadedModel } from '../model/load-model.js';
import { tinyConfig } from '../methods/test-model.js';
import { generateText } from '../train/generate-text.js';
import { fullSequenceGenerate } from './full-sequence-reference.js';
import { InputRows } from './input-rows.js';
import { randomPrompt, tinyModel } from './test-support.js';

const config = tinyConfig;

describe('step graphs on the weight bank', () => {
  it.each([true, false])('every step shape binds the bank buffers themselves and carries no weight (tied classifier: %s)', (tied) => {
    const model = shareWeights(decoderModelFromLlama(generateLlama(config, 7, { tiedClassifier: tied })));
    const bank = WeightBank.of(model);
    const bankNames = [...bank.entries()].map(([name]) => name);
    const bankBuffers = new Set(bankNames.map((n) => bank.get(n).data.buffer));
    for (const shape of [
      { slots: 4, chunk: 1, cacheLength: 16 },
      { slots: 1, chunk: 8, cacheLength: 32 },
      { slots: 1, chunk: 8, cacheLength: 16, scoring: true },
    ]) {
      const g = buildStepGraph(model, shape);
      // the embedding table is read on the host (input rows): bound only as a tied classifier
      const want = bankNames.filter((n) => n !== 'token_embedding' || tied).sort();
      expect([...g.bound.keys()].sort()).toEqual(want);
      for (const [name, t] of g.bound) expect(t.data).toBe(bank.get(name).data);
      for (const init of g.initializers) {
        expect(bankNames).not.toContain(init.value.name);
        expect(bankBuffers.has(init.data.buffer)).toBe(false);
      }
    }
  });

  it('a 16-bit bank: the step graph binds its float16 matrices, input rows widen its embedding rows exactly', () => {
    const model = shareWeights(decoderModelFromLlama(generateLlama(config, 5, { tiedClassifier: false })));
    const half = WeightBank.of(model, 'float32', 'f16');
    const g = buildStepGraph(model, { slots: 2, chunk: 1, cacheLength: 16, weightsHeld: 'f16' });
    const qkv = g.bound.get('layers.0.qkv_proj.weight')!.data;
    expect(qkv).toBeInstanceOf(Uint16Array);
    expect(qkv).toBe(half.get('layers.0.qkv_proj.weight').data);
    const table = half.get('token_embedding').data as Uint16Array;
    const out = new Float32Array(2 * config.dim);
    new InputRows(model, 'f16').token(9, 0, out, 1);
    expect(out.subarray(config.dim)).toEqual(float16Values(table.subarray(9 * config.dim, 10 * config.dim)));
  });
});

describe('generateText on a 16-bit weight bank', () => {
  let model: LoadedModel;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ model, cleanup } = await tinyModel());
  });
  afterAll(() => cleanup());

  it.each(['bare model', 'prompt_tuning', 'prefix_tuning'] as const)(
    '%s: weightsDtype f16 gives the full-sequence graph’s tokens on the same 16-bit bank',
    async (method) => {
      const prompt = method === 'bare model' ? undefined : randomPrompt(model, method, 5, 3).stored;
      const served = prompt && (prompt.placement === 'virtual-tokens' ? { prompt: prompt.tensor } : { prefix: prompt.tensor });
      const options = { text: 'hello there', ...served, maxTokens: 24, threads: 1, weightsDtype: 'f16' as const };
      const want = await fullSequenceGenerate(model, options);
      expect(want.outputIds.length).toBeGreaterThan(0);
      expect((await generateText(model, options)).outputIds).toEqual(want.outputIds);
    },
  );
});
