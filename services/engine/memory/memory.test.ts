/**
 * The --max-memory check: sizes as people write them, the default limit, the estimate's parts for
 * TinyLlama 1.1B's shape (what --weights-dtype and --recompute change), and the refusal message.
 */
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { specFromHfConfig } from '../model/hf/config.js';
import { hfFamilyPreset } from '../model/hf/presets.js';
import { expectedWeights, type StoredDType, type WeightInfo } from '../model/weights.js';
import { heldDtype } from '../model/weights-dtype.js';
import { checkMemoryBudget, largestSeqLen, MemoryLimitError } from './budget.js';
import { estimateMemory, RUNTIME_BYTES, type MemoryPlan } from './estimate.js';
import { formatBytes, memoryLimit, parseByteSize } from './limit.js';

const GiB = 1024 ** 3;
const { spec } = specFromHfConfig(hfFamilyPreset('llama', 'tinyllama-1b').config, 'tinyllama-1b');
const listed = (stored: StoredDType): WeightInfo[] => expectedWeights(spec).map((w) => ({ ...w, stored }));
const count = (ws: readonly { dims: number[] }[]): number => ws.reduce((n, w) => n + w.dims.reduce((a, b) => a * b, 1), 0);
const parameters = count(expectedWeights(spec));
/** norms (TinyLlama has no biases): held in float32 whatever is asked */
const vectors = count(expectedWeights(spec).filter((w) => w.dims.length === 1));
const matrices = parameters - vectors;
const plan = (overrides: Partial<MemoryPlan> = {}): MemoryPlan => ({
  spec,
  weights: listed('f32'),
  weightsDtype: 'auto',
  recompute: false,
  mode: 'train',
  batch: 1,
  seqLen: 256,
  ...overrides,
});

describe('sizes', () => {
  it.each([
    ['12GiB', 12 * GiB],
    ['12G', 12 * GiB],
    ['8GB', 8e9],
    ['512 MiB', 512 * 1024 ** 2],
    ['1.5g', 1.5 * GiB],
    ['1000', 1000],
    ['64k', 65536],
  ])('%s is %d bytes', (text, bytes) => expect(parseByteSize(text)).toBe(bytes));

  it.each(['lots', '12XB', '0', '-1GiB', ''])('"%s" is refused, naming the units', (text) =>
    expect(() => parseByteSize(text)).toThrow(/is not (a|a positive) size/),
  );

  it('formats bytes for messages', () => {
    expect([formatBytes(1.5 * GiB), formatBytes(320 * 1024 ** 2), formatBytes(2000)]).toEqual(['1.5 GiB', '320 MiB', '2 KiB']);
  });

  it("defaults to the machine's memory or the cgroup's lower limit; --max-memory wins", async () => {
    const fallback = await memoryLimit(undefined);
    expect(fallback.bytes).toBeLessThanOrEqual(os.totalmem());
    expect(fallback.origin).toMatch(/^(the machine's memory|the cgroup limit \(\/sys\/fs\/cgroup\/.+\))$/);
    expect(await memoryLimit('2GiB')).toEqual({ bytes: 2 * GiB, origin: '--max-memory' });
    expect(await memoryLimit(12345)).toEqual({ bytes: 12345, origin: '--max-memory' });
  });
});

describe('held dtypes', () => {
  it('auto keeps float files as stored and maps ggml types to q8 / q4; vectors are never quantized', () => {
    const m = [2048, 2048];
    expect([heldDtype('f32', 'auto', m), heldDtype('bf16', 'auto', m), heldDtype('q8_0', 'auto', m), heldDtype('q6_k', 'auto', m)]).toEqual(
      ['f32', 'bf16', 'q8', 'q8'],
    );
    expect(['q4_0', 'q4_1', 'q5_0', 'q5_1', 'q2_k', 'q3_k', 'q4_k', 'q5_k'].map((t) => heldDtype(t as StoredDType, 'auto', m))).toEqual(
      Array(8).fill('q4'),
    );
    expect([heldDtype('f32', 'q4', m), heldDtype('q4_k', 'f16', m)]).toEqual(['q4', 'f16']);
    expect([heldDtype('q8_0', 'auto', [2048]), heldDtype('f32', 'q4', [2048]), heldDtype('f32', 'bf16', [2048])]).toEqual([
      'f32',
      'f32',
      'bf16',
    ]);
  });
});

describe('the estimate (TinyLlama 1.1B shape)', () => {
  it('weights at the held precision: f32 4 bytes, 16-bit 2, q4 20 bytes per 32 (+ float32 vectors)', () => {
    expect(parameters).toBeGreaterThan(1.09e9);
    expect(parameters).toBeLessThan(1.11e9);
    const f32 = estimateMemory(plan()).weights;
    expect(f32).toBe(parameters * 4);
    expect(estimateMemory(plan({ weightsDtype: 'bf16' })).weights).toBe(matrices * 2 + vectors * 4);
    expect(estimateMemory(plan({ weights: listed('f16') })).weights).toBe(matrices * 2 + vectors * 4);
    const q4 = estimateMemory(plan({ weightsDtype: 'q4' })).weights;
    expect(q4 / f32).toBeGreaterThan(20 / 32 / 4);
    expect(q4 / f32).toBeLessThan(20 / 32 / 4 + 0.001);
    expect(estimateMemory(plan()).widened).toBe(0); // f32 needs no widened copy
    expect(estimateMemory(plan({ weightsDtype: 'q4' })).widened).toBeGreaterThan(0);
  });

  it('one precision for every matrix, as the bank holds them: q4_k mixed with q6_k is all q8, f16 mixed with f32 all f32', () => {
    const mixed = (a: StoredDType, b: StoredDType): WeightInfo[] =>
      expectedWeights(spec).map((w, i) => ({ ...w, stored: w.dims.length === 1 ? 'f32' : i % 2 === 0 ? a : b }));
    const q = estimateMemory(plan({ weights: mixed('q4_k', 'q6_k') }));
    expect(q.held).toBe('q8');
    expect(q.weights).toBe((matrices * 36) / 32 + vectors * 4);
    const f = estimateMemory(plan({ weights: mixed('f16', 'f32') }));
    expect(f.held).toBe('f32');
    expect(f.weights).toBe(parameters * 4);
    expect(f.widened).toBe(0);
  });

  it('widened: the largest layer, or one block of the classifier rows (at most 64 MiB), in the forward and again in the backward', () => {
    const classifier = spec.vocabSize * spec.dim * 4;
    const layer = count(expectedWeights(spec).filter((w) => w.name.startsWith('layers.0.') && w.dims.length === 2)) * 4;
    expect(classifier).toBeGreaterThan(layer); // 32000 × 2048 against one layer's 44M values, but widened in blocks
    expect(estimateMemory(plan({ weightsDtype: 'q4' })).widened).toBe(2 * layer);
    expect(estimateMemory(plan({ weightsDtype: 'q4', mode: 'forward' })).widened).toBe(layer);
    const narrow = { ...spec, nLayers: 1, hiddenDim: 64 }; // a layer smaller than one classifier block
    expect(
      estimateMemory(
        plan({
          spec: narrow,
          weights: expectedWeights(narrow).map((w) => ({ ...w, stored: 'f32' as const })),
          weightsDtype: 'q4',
          mode: 'forward',
        }),
      ).widened,
    ).toBe(64 * 2 ** 20);
  });

  it('T=2048: attention keeps no length² tensor per layer; recomputation keeps only the layer inputs', () => {
    const long = estimateMemory(plan({ seqLen: 2048 }));
    const recomputed = estimateMemory(plan({ seqLen: 2048, recompute: true }));
    const saved = 22 * 2048 * (4 * 2048 + (32 + 2 * 4) * 64 + 32 * 64 + 3 * 5632) * 4; // every layer's saved intermediates
    const working = (2048 * (4 * 2048 + (32 + 2 * 4) * 64 + 32 * 64 + 3 * 5632) + 4 * 32 * 2048 * 2048) * 4; // one layer, 4 × 32 × 2048² attention
    expect(long.activations).toBe(saved + working);
    expect(recomputed.activations).toBe(22 * 2048 * 2048 * 4 + 2 * working);
    expect(recomputed.activations).toBeLessThan(long.activations);
    const forwardLayer = (2048 * (4 * 2048 + (32 + 2 * 4) * 64 + 32 * 64 + 3 * 5632) + 2 * 32 * 2048 * 2048) * 4; // scores and probabilities only
    expect(estimateMemory(plan({ seqLen: 2048, mode: 'forward' })).activations).toBe(forwardLayer);
    expect(long.total).toBe(long.weights + long.widened + long.activations + long.logits + RUNTIME_BYTES);
  });

  it('the largest sequence: the longest example rounded to the bucket of 8, virtual tokens added, within the context', () => {
    expect(largestSeqLen([{ maxLength: 13 }, undefined, { maxLength: 30 }], 8, 2048)).toBe(32 + 8);
    expect(largestSeqLen([{ maxLength: 2045 }], 8, 2048)).toBe(2048);
  });
});

describe('checkMemoryBudget', () => {
  it('returns the estimate when it fits', () => {
    expect(checkMemoryBudget(plan(), { bytes: 64 * GiB, origin: '--max-memory' }, 'm.gguf').total).toBe(estimateMemory(plan()).total);
  });

  it('refuses above the limit with the figures and what would fit', () => {
    const long = plan({ seqLen: 2048, batch: 2 });
    let error: unknown;
    try {
      checkMemoryBudget(long, { bytes: 16 * GiB, origin: "the machine's memory" }, 'tinyllama.gguf');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MemoryLimitError);
    const message = (error as Error).message;
    expect(message).toMatch(
      /^tinyllama\.gguf: this run needs an estimated [\d.]+ GiB — weights 4\.1 GiB held as f32, activations [\d.]+ GiB for 2 × 2048 tokens/,
    );
    expect(message).toContain("more than the 16.0 GiB allowed by the machine's memory");
    expect(message).toMatch(/--recompute → [\d.]+ GiB \(fits\), --weights-dtype q4 → [\d.]+ GiB, --batch-size 1 → [\d.]+ GiB/);
  });
});
