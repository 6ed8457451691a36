import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildStepGraph } from '../graph/decode-graph.js';
import { float16Bits, float16Values } from '../graph/dtype.js';
import { dequantize, quantize } from '../graph/quantized.js';
import { shareWeights, WeightBank } from '../graph/weight-bank.js';
import { generateLlama } from '../model/generate.js';
import { decoderModelFromLlama } from '../model/llama.js';
import { tensorOf, weightName } from '../model/weights.js';
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

  // rows of whole quantization blocks (32 values)
  const blocks = { ...config, dim: 32, hiddenDim: 64 };
  it.each(['f16', 'q8', 'q4'] as const)(
    'a %s bank: the step graph binds its narrow matrices, input rows widen its embedding rows exactly',
    (held) => {
      const model = shareWeights(decoderModelFromLlama(generateLlama(blocks, 5, { tiedClassifier: false })));
      const narrow = WeightBank.of(model, 'float32', held);
      const g = buildStepGraph(model, { slots: 2, chunk: 1, cacheLength: 16, weightsHeld: held });
      const qkv = g.bound.get('layers.0.qkv_proj.weight')!.data;
      expect(qkv).toBeInstanceOf(held === 'f16' ? Uint16Array : Int8Array);
      expect(qkv).toBe(narrow.get('layers.0.qkv_proj.weight').data);
      const { dim } = blocks;
      const row = tensorOf(model, weightName.embedTokens).data.subarray(9 * dim, 10 * dim);
      const want =
        held === 'f16'
          ? float16Values(float16Bits(row))
          : dequantize(quantize('row', row, dim, held === 'q8' ? 8 : 4), held === 'q8' ? 8 : 4);
      const out = new Float32Array(2 * dim);
      new InputRows(model, held).token(9, 0, out, 1);
      expect(out.subarray(dim)).toEqual(want);
      expect(out.subarray(dim)).not.toEqual(row);
    },
  );
});

describe('generateText on a 16-bit or quantized weight bank', () => {
  let model: LoadedModel;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ model, cleanup } = await tinyModel());
  });
  afterAll(() => cleanup());

  const cases = (['f16', 'q8', 'q4'] as const).flatMap((dtype) =>
    (['bare model', 'prompt_tuning', 'prefix_tuning'] as const).map((m) => [m, dtype] as const),
  );
  it.each(cases)('%s: weightsDtype %s gives the full-sequence graph’s tokens on the same bank', async (method, weightsDtype) => {
    const prompt = method === 'bare model' ? undefined : randomPrompt(model, method, 5, 3).stored;
    const served = prompt && (prompt.placement === 'virtual-tokens' ? { prompt: prompt.tensor } : { prefix: prompt.tensor });
    const options = { text: 'hello there', ...served, maxTokens: 24, threads: 1, weightsDtype };
    const want = await fullSequenceGenerate(model, options);
    expect(want.outputIds.length).toBeGreaterThan(0);
    expect((await generateText(model, options)).outputIds).toEqual(want.outputIds);
  });
});
