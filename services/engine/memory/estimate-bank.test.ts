/**
 * The estimate's weights are what the weight bank really holds: a small model whose file mixes
 * stored types is loaded into its bank, and the bank's bytes are the estimate's to the byte.
 */
import { describe, expect, it } from 'vitest';
import { WeightBank, loadWeightBank } from '../graph/weight-bank.js';
import { generateLlama } from '../model/generate.js';
import { decoderModelFromLlama } from '../model/llama.js';
import type { ModelSpec } from '../model/spec.js';
import { expectedWeights, tensorOf, weightName, type StoredDType, type WeightSource } from '../model/weights.js';
import type { WeightsDtype } from '../model/weights-dtype.js';
import { estimateMemory } from './estimate.js';

// every matrix row a whole number of 32-value blocks, so that the bank can quantize it
const llama = decoderModelFromLlama(
  generateLlama(
    { dim: 32, hiddenDim: 64, nLayers: 2, nHeads: 4, nKvHeads: 2, vocabSize: 13, contextLength: 16, normEps: 1e-5, ropeTheta: 10000 },
    5,
    { tiedClassifier: false },
  ),
);
/** the same model with learned positions (GPT-2 style), which the bank holds in float32 */
const learned: ModelSpec = { ...llama.spec, positions: { kind: 'learned' } };
const positions = Float32Array.from({ length: llama.spec.contextLength * llama.spec.dim }, (_, i) => Math.sin(i));

/** A source listing every matrix as `a` or `b` in turn (vectors as f32); it reads the model's float32 values whatever it lists. */
function source(spec: ModelSpec, a: StoredDType, b: StoredDType): WeightSource {
  const listed = expectedWeights(spec).map((w, i) => ({
    ...w,
    stored: (w.dims.length === 1 ? 'f32' : i % 2 === 0 ? a : b) as StoredDType,
  }));
  const values = (name: string): Float32Array => (name === weightName.positionEmbeddings ? positions : tensorOf(llama, name).data);
  return {
    list: () => listed,
    readF32: (name) => Promise.resolve(values(name)),
    readStored: (name) => Promise.resolve({ dtype: 'f32', dims: listed.find((w) => w.name === name)!.dims, data: values(name) }),
  };
}

async function bankAndEstimate(spec: ModelSpec, a: StoredDType, b: StoredDType, weightsDtype: WeightsDtype = 'auto') {
  const weights = source(spec, a, b);
  const loaded = await loadWeightBank({ spec, weights }, 'mixed.gguf', weightsDtype);
  const estimate = estimateMemory({ spec, weights: weights.list(), weightsDtype, recompute: false, mode: 'train', batch: 1, seqLen: 8 });
  return { bank: WeightBank.of(loaded), estimate };
}

describe('the estimate holds weights as the bank does', () => {
  it.each([
    ['q4_k', 'q6_k', 'q8'],
    ['q4_k', 'q5_k', 'q4'],
    ['f16', 'f32', 'f32'],
    ['f16', 'bf16', 'f16'],
  ] as const)('matrices stored as %s and %s are all held as %s, to the byte', async (a, b, held) => {
    for (const spec of [llama.spec, learned]) {
      const { bank, estimate } = await bankAndEstimate(spec, a, b);
      expect(bank.held).toBe(held);
      expect(estimate.held).toBe(held);
      expect(estimate.weights).toBe(bank.byteLength);
    }
  });

  it('learned positions stored in float32 do not make a 16-bit file float32 (they are held in float32 anyway)', async () => {
    const weights = source(learned, 'f16', 'f16');
    const listed = weights.list().map((w) => (w.name === weightName.positionEmbeddings ? { ...w, stored: 'f32' as StoredDType } : w));
    const loaded = await loadWeightBank({ spec: learned, weights: { ...weights, list: () => listed } }, 'gpt2-like.gguf');
    const estimate = estimateMemory({
      spec: learned,
      weights: listed,
      weightsDtype: 'auto',
      recompute: false,
      mode: 'train',
      batch: 1,
      seqLen: 8,
    });
    expect(WeightBank.of(loaded).held).toBe('f16');
    expect(estimate.held).toBe('f16');
    expect(estimate.weights).toBe(WeightBank.of(loaded).byteLength);
  });

  it('asked for 16 bits, vectors and learned positions stay float32', async () => {
    const { bank, estimate } = await bankAndEstimate(learned, 'f32', 'f32', 'bf16');
    expect(bank.get('position_embedding').data).toBeInstanceOf(Float32Array);
    expect(estimate.weights).toBe(bank.byteLength);
  });
});
