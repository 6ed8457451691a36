/**
 * Seeded Llama-family models with random weights, for tests, the demo and benchmarks.
 * Init: embedding rows ~ N(0, 1/dim) (so tied logits have unit scale), linear weights
 * ~ N(0, 1/fan_in), residual projections (wo, w2) further scaled by 1/sqrt(2·nLayers),
 * RMSNorm weights ~ 1 + N(0, 0.1²) (not all ones, so a layout bug cannot hide).
 */
import { generatedTokenizerSpec } from '../tokenizer/generated-tokenizer.js';
import { writeGguf } from './gguf-write.js';
import type { StoredDType } from './quant/index.js';
import type { F32Tensor, LlamaConfig, LlamaLayerWeights, LlamaWeights } from './llama.js';
import { Rng } from './rng.js';

export interface GenerateOptions {
  /** classifier shares the embedding matrix (same object); default true */
  tiedClassifier?: boolean;
}

export interface ModelPreset {
  config: LlamaConfig;
  tiedClassifier: boolean;
  dtype: 'f32' | 'f16';
}

const base = { normEps: 1e-5, ropeTheta: 10000 };
export const presets = {
  tiny: {
    config: { dim: 32, hiddenDim: 96, nLayers: 2, nHeads: 4, nKvHeads: 2, vocabSize: 320, contextLength: 256, ...base },
    tiedClassifier: false,
    dtype: 'f32',
  },
  demo: {
    config: { dim: 128, hiddenDim: 344, nLayers: 4, nHeads: 8, nKvHeads: 4, vocabSize: 1024, contextLength: 512, ...base },
    tiedClassifier: true,
    dtype: 'f32',
  },
  /** 85M parameters in the blocks (+24.6M tied embedding = 109.5M); f16 file ≈ 219 MB */
  bench85m: {
    config: { dim: 768, hiddenDim: 2048, nLayers: 12, nHeads: 12, nKvHeads: 12, vocabSize: 32000, contextLength: 1024, ...base },
    tiedClassifier: true,
    dtype: 'f16',
  },
} as const satisfies Record<string, ModelPreset>;
export type PresetName = keyof typeof presets;

export function validateLlamaConfig(c: LlamaConfig): void {
  const problems: string[] = [];
  for (const key of ['dim', 'hiddenDim', 'nLayers', 'nHeads', 'nKvHeads', 'vocabSize', 'contextLength'] as const) {
    if (!Number.isInteger(c[key]) || c[key] <= 0) problems.push(`${key} must be a positive integer (got ${c[key]})`);
  }
  if (c.dim % c.nHeads !== 0) problems.push(`dim ${c.dim} must be a multiple of nHeads ${c.nHeads}`);
  else if ((c.dim / c.nHeads) % 2 !== 0) problems.push(`head size ${c.dim / c.nHeads} must be even (RoPE)`);
  if (c.nHeads % c.nKvHeads !== 0) problems.push(`nHeads ${c.nHeads} must be a multiple of nKvHeads ${c.nKvHeads}`);
  if (!(c.normEps > 0) || !(c.ropeTheta > 0)) problems.push('normEps and ropeTheta must be positive');
  if (problems.length > 0) throw new Error(`invalid Llama config: ${problems.join('; ')}`);
}

export function parameterCount(w: LlamaWeights): number {
  const tensors = [w.tokenEmbedding, w.outputNorm, ...w.layers.flatMap((l) => Object.values(l) as F32Tensor[])];
  if (w.output !== w.tokenEmbedding) tensors.push(w.output);
  return tensors.reduce((n, t) => n + t.data.length, 0);
}

export function generateLlama(config: LlamaConfig, seed: number, options: GenerateOptions = {}): LlamaWeights {
  validateLlamaConfig(config);
  const rng = Rng.fromSeed(seed);
  const normal = (dims: number[], std: number, mean = 0): F32Tensor => ({
    dims,
    data: rng.fillNormal(new Float32Array(dims.reduce((a, b) => a * b, 1)), std, mean),
  });
  const { dim, hiddenDim, nLayers, vocabSize } = config;
  const kvDim = (dim / config.nHeads) * config.nKvHeads;
  const residualScale = 1 / Math.sqrt(2 * nLayers);
  const norm = (): F32Tensor => normal([dim], 0.1, 1);

  const tokenEmbedding = normal([vocabSize, dim], 1 / Math.sqrt(dim));
  const layers: LlamaLayerWeights[] = [];
  for (let l = 0; l < nLayers; l++) {
    layers.push({
      attnNorm: norm(),
      wq: normal([dim, dim], 1 / Math.sqrt(dim)),
      wk: normal([kvDim, dim], 1 / Math.sqrt(dim)),
      wv: normal([kvDim, dim], 1 / Math.sqrt(dim)),
      wo: normal([dim, dim], residualScale / Math.sqrt(dim)),
      ffnNorm: norm(),
      w1: normal([hiddenDim, dim], 1 / Math.sqrt(dim)),
      w2: normal([dim, hiddenDim], residualScale / Math.sqrt(hiddenDim)),
      w3: normal([hiddenDim, dim], 1 / Math.sqrt(dim)),
    });
  }
  const outputNorm = norm();
  const output = (options.tiedClassifier ?? true) ? tokenEmbedding : normal([vocabSize, dim], 1 / Math.sqrt(dim));
  return { config, tokenEmbedding, layers, outputNorm, output };
}

export interface GeneratedModelFile {
  path: string;
  /** sha256 hex of the written file (the model fingerprint) */
  fingerprint: string;
  bytes: number;
  parameterCount: number;
  config: LlamaConfig;
}

/** Generates a model (preset name or explicit config) with its generated tokenizer and writes it as GGUF. */
export async function writeGeneratedModel(
  presetOrConfig: PresetName | LlamaConfig,
  seed: number,
  outPath: string,
  options: GenerateOptions & { dtype?: StoredDType } = {},
): Promise<GeneratedModelFile> {
  const preset: ModelPreset =
    typeof presetOrConfig === 'string'
      ? (presets[presetOrConfig] ?? unknownPreset(presetOrConfig))
      : { config: presetOrConfig, tiedClassifier: true, dtype: 'f32' };
  const weights = generateLlama(preset.config, seed, { tiedClassifier: options.tiedClassifier ?? preset.tiedClassifier });
  const name = `ptune-generated ${typeof presetOrConfig === 'string' ? presetOrConfig : 'custom'} seed ${seed}`;
  const written = await writeGguf(outPath, weights, generatedTokenizerSpec(preset.config.vocabSize), {
    dtype: options.dtype ?? preset.dtype,
    name,
  });
  return { path: outPath, ...written, parameterCount: parameterCount(weights), config: preset.config };
}

function unknownPreset(name: string): never {
  throw new Error(`unknown model preset "${name}" (known: ${Object.keys(presets).join(', ')})`);
}
