import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { float16Bits, float16Values } from '../graph/dtype.js';
import { promptTuning } from '../graph/decoder-graph.js';
import { dequantize, quantize } from '../graph/quantized.js';
import { WeightBank } from '../graph/weight-bank.js';
import { generateLlama } from '../model/generate.js';
import { randomWeights, writeHfModel } from '../model/hf/generate-hf.js';
import { specFromHfConfig } from '../model/hf/config.js';
import { hfFamilyPreset } from '../model/hf/presets.js';
import { serializeGguf } from '../model/gguf-serialize.js';
import { ggufArchitectureOf, ggufMetadataFromSpec } from '../model/gguf-spec.js';
import { ggufTensorsFromCanonical } from '../model/gguf-tensors.js';
import { tensorToWrite } from '../model/gguf-write.js';
import { generatedTokenizerSpec } from '../tokenizer/generated-tokenizer.js';
import { tokenizerMetadata } from '../tokenizer/gguf-tokenizer.js';
import { decoderModelFromLlama } from '../model/llama.js';
import { loadModel } from '../model/load-model.js';
import { Rng } from '../model/rng.js';
import type { DecoderModel, F32Tensor } from '../model/weights.js';
import { tinyConfig } from '../methods/test-model.js';
import { PromptRunner, type RunnerOptions, type TokenBatch, type TrainOutputs } from './prompt-runner.js';

/**
 * Weights held in 16 bits compute exactly what float32 computes on the same weights rounded to
 * float16 (the graph widens each matrix with a Cast right before its use, forward and backward),
 * so the f16 path is checked twice:
 *  - against float32 on the rounded weights: loss and prompt gradient within 1e-5 relative (only
 *    summation order may differ);
 *  - against float32 on the original weights, the tolerance of `--weights-dtype f16` itself:
 *    loss within 1e-3 relative, prompt gradient within 2e-2 relative (L2), for weights of
 *    magnitude ~0.1–1 (float16's 11-bit mantissa: 2^-11 ≈ 4.9e-4 per weight).
 * q8 and q4 likewise: within 1e-5 of float32 on the dequantized weights, and vs the original
 * weights loss within 1e-2 (q8) / 1e-1 (q4) relative, prompt gradient within 5e-2 / 8e-1 relative
 * L2 (a q4 block has 16 levels, its values move by up to max|x|/14: on these random Gaussian
 * weights, q4's worst case, the gradient is off by 0.61; q8 by far less).
 */
const P = 3;
const batch = (V: number): TokenBatch => {
  const rng = Rng.fromSeed(9);
  const T = 8;
  const tokens = BigInt64Array.from({ length: 2 * T }, () => BigInt(1 + rng.nextInt(V - 1)));
  const lossMask = Float32Array.from({ length: 2 * T }, (_, i) => (i % T >= 3 ? 1 : 0));
  return { batch: 2, seqLen: T, tokens, lossMask };
};
const prompt = (dim: number): Float32Array => {
  const rng = Rng.fromSeed(4);
  return Float32Array.from({ length: P * dim }, () => rng.nextFloat() - 0.5);
};

async function step(model: DecoderModel, options: RunnerOptions): Promise<TrainOutputs> {
  const runner = new PromptRunner(model, { virtualTokens: promptTuning(P) }, { threads: 1, ...options });
  try {
    return await runner.train(batch(model.spec.vocabSize), { prompt_embeddings: prompt(model.spec.dim) });
  } finally {
    await runner.release();
  }
}

const relL2 = (a: Float32Array, b: Float32Array): number => {
  let d = 0;
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    d += (a[i] - b[i]) ** 2;
    n += b[i] ** 2;
  }
  return Math.sqrt(d / n);
};
const relDiff = (a: number, b: number): number => Math.abs(a - b) / Math.abs(b);

/** The model with every matrix rounded to float16 (what a 16-bit bank holds), vectors as they are. */
function roundedToF16(model: DecoderModel): DecoderModel {
  const tensors = new Map<string, F32Tensor>();
  for (const [name, t] of model.tensors)
    tensors.set(name, t.dims.length === 2 ? { dims: t.dims, data: float16Values(float16Bits(t.data)) } : t);
  return { spec: model.spec, tensors };
}

/** The model with every matrix quantized to `bits` and back (what a quantized bank computes with). */
function dequantized(model: DecoderModel, bits: 8 | 4): DecoderModel {
  const tensors = new Map<string, F32Tensor>();
  for (const [name, t] of model.tensors)
    tensors.set(name, t.dims.length === 2 ? { dims: t.dims, data: dequantize(quantize(name, t.data, t.dims[1], bits), bits) } : t);
  return { spec: model.spec, tensors };
}

function expectF16Tolerances(f16: TrainOutputs, rounded: TrainOutputs, f32: TrainOutputs): void {
  expect(relDiff(f16.loss, rounded.loss)).toBeLessThan(1e-5);
  expect(relL2(f16.grads.prompt_embeddings, rounded.grads.prompt_embeddings)).toBeLessThan(1e-5);
  expect(relDiff(f16.loss, f32.loss)).toBeLessThan(1e-3);
  expect(relL2(f16.grads.prompt_embeddings, f32.grads.prompt_embeddings)).toBeLessThan(2e-2);
  // the check is not vacuous: rounding the weights did change the result
  expect(f16.loss).not.toBe(f32.loss);
}

describe('weights dtype', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ptune-weights-dtype-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('f16 on a float32 Llama (GQA): bank of float16 matrices; loss and prompt gradient vs float32', async () => {
    const model = decoderModelFromLlama(generateLlama(tinyConfig, 42, { tiedClassifier: false }));
    const f16 = await step(model, { weightsDtype: 'f16' });
    expect(WeightBank.of(model, 'float32', 'f16').get('layers.0.qkv_proj.weight').data).toBeInstanceOf(Uint16Array);
    expectF16Tolerances(f16, await step(roundedToF16(model), { weightsDtype: 'f32' }), await step(model, { weightsDtype: 'f32' }));
    // bf16 is held as float16 (onnxruntime-node has no bfloat16 tensors): the same path
    expect((await step(model, { weightsDtype: 'bf16' })).loss).toBe(f16.loss);
  });

  // rows of 64 and 96 values: whole blocks of 32
  const blocky = decoderModelFromLlama(
    generateLlama({ ...tinyConfig, dim: 64, hiddenDim: 96, vocabSize: 40 }, 8, { tiedClassifier: false }),
  );
  for (const [dtype, bits, lossTol, gradTol] of [
    ['q8', 8, 1e-2, 5e-2],
    ['q4', 4, 1e-1, 8e-1],
  ] as const) {
    it(`${dtype}: int blocks of 32 + float32 scales in the bank; loss and prompt gradient vs float32 (${lossTol} / ${gradTol} relative)`, async () => {
      const held = await step(blocky, { weightsDtype: dtype });
      const bank = WeightBank.of(blocky, 'float32', dtype);
      const qkv = bank.get('layers.0.qkv_proj.weight');
      expect(qkv.data).toBeInstanceOf(Int8Array);
      expect(qkv.dims).toEqual([8, 16, bits === 8 ? 64 : 32]);
      expect(bank.get('layers.0.qkv_proj.weight.scales').dims).toEqual([8, 16, 2]);
      const onDequantized = await step(dequantized(blocky, bits), { weightsDtype: 'f32' });
      const f32 = await step(blocky, { weightsDtype: 'f32' });
      expect(relDiff(held.loss, onDequantized.loss)).toBeLessThan(1e-5);
      expect(relL2(held.grads.prompt_embeddings, onDequantized.grads.prompt_embeddings)).toBeLessThan(1e-5);
      expect(relDiff(held.loss, f32.loss)).toBeLessThan(lossTol);
      expect(relL2(held.grads.prompt_embeddings, f32.grads.prompt_embeddings)).toBeLessThan(gradTol);
      expect(held.loss).not.toBe(f32.loss);
    });
  }

  it('q4 on rows that are not whole blocks of 32 is refused naming the tensor', async () => {
    const model = decoderModelFromLlama(generateLlama(tinyConfig, 42, { tiedClassifier: false }));
    await expect(step(model, { weightsDtype: 'q4' })).rejects.toThrow(
      /q4: tensor "token_embedding" has rows of 16 values, not a multiple of 32; use f16 or f32/,
    );
  });

  describe('quantized GGUF files loaded with auto', () => {
    const { spec } = specFromHfConfig(
      { ...hfFamilyPreset('llama', 'tiny').config, hidden_size: 64, intermediate_size: 128, num_hidden_layers: 1 },
      'llama config',
    );
    const gguf = [...ggufTensorsFromCanonical(spec, ggufArchitectureOf(spec), randomWeights(spec, 4))];
    const { metadata } = ggufMetadataFromSpec(spec);
    const fileMetadata = new Map([...metadata, ...tokenizerMetadata(generatedTokenizerSpec(spec.vocabSize))]);

    it.each([
      ['q8_0', 'q8'],
      ['q4_0', 'q4'],
    ] as const)('%s is held as %s, and trains as its float32 dequantization does', async (stored, held) => {
      const path = join(dir, `${stored}.gguf`);
      await writeFile(
        path,
        serializeGguf(
          fileMetadata,
          gguf.map(([name, t]) => tensorToWrite(name, t, stored)),
        ),
      );
      const model = await loadModel(path);
      expect(WeightBank.of(model).held).toBe(held);
      const wide = await loadModel(path, 'f32');
      const [q, f] = [await step(model, {}), await step(wide, {})];
      // Q8_0 blocks requantize to themselves (same scale rule); Q4_0's asymmetric −8 level does not
      const tol = held === 'q8' ? 1e-5 : 1e-1;
      expect(relDiff(q.loss, f.loss)).toBeLessThan(tol);
    });
  });

  describe('a bf16 Qwen3 checkpoint (GQA, q/k norms) loaded with auto', () => {
    it('holds 16-bit matrices, reads canonical tensors widened, and trains within the f16 tolerances', async () => {
      await writeHfModel(join(dir, 'qwen3'), { family: 'qwen3', preset: 'tiny', seed: 5, dtype: 'bf16' });
      const model = await loadModel(join(dir, 'qwen3'));
      const bank = WeightBank.of(model);
      expect(bank.held).toBe('f16');
      expect(bank.get('token_embedding').data).toBeInstanceOf(Uint16Array);
      expect(bank.get('layers.0.q_norm.weight').data).toBeInstanceOf(Float32Array);
      const wide = await loadModel(join(dir, 'qwen3'), 'f32');
      expect(WeightBank.of(wide).held).toBe('f32');
      // bf16 values are exact in float16 inside its normal range (|x| ≥ 2^-14), within 2^-25 below it
      for (const [name, t] of wide.tensors) {
        const held = model.tensors.get(name)!.data;
        const off = held.findIndex((v, i) => (Math.abs(t.data[i]) >= 2 ** -14 ? v !== t.data[i] : Math.abs(v - t.data[i]) > 2 ** -25));
        expect(off, name).toBe(-1);
      }
      const f16 = await step(model, {});
      const f32 = await step(wide, {});
      // the same weights up to those subnormal roundings
      expect(relDiff(f16.loss, f32.loss)).toBeLessThan(1e-5);
      expect(relL2(f16.grads.prompt_embeddings, f32.grads.prompt_embeddings)).toBeLessThan(1e-5);
    });
  });
});
