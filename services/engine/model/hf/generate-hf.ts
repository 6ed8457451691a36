/**
 * Seeded random-weight models written as Hugging Face checkpoint folders in each family's real
 * layout: config.json, model.safetensors (or shards + model.safetensors.index.json),
 * tokenizer.json (byte-level BPE), tokenizer_config.json, generation_config.json.
 * Init (canonical tensors, in expectedWeights order, one RNG stream): embeddings and lm_head
 * ~ N(0, 1/dim), linear weights ~ N(0, 1/fan_in) with o/down further scaled by 1/sqrt(2·layers),
 * biases ~ N(0, 0.1²), norm weights ~ 1 + N(0, 0.1²) (Gemma's (1 + w) norms: w ~ N(0, 0.1²)),
 * norm biases ~ N(0, 0.1²), learned positions ~ N(0, 0.1²): nothing is all ones or zeros, so a
 * layout bug cannot hide.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { writeSafetensors, type FloatDtype, type TensorToWrite } from '../../formats/safetensors.js';
import { Rng } from '../rng.js';
import type { Family, ModelSpec } from '../spec.js';
import { expectedWeights, type F32Tensor } from '../weights.js';
import { specFromHfConfig } from './config.js';
import { hfFamilyPreset, type HfPresetName } from './presets.js';
import { INDEX_FILE, SINGLE_FILE } from './safetensors-files.js';
import { fromCanonical, hfLayout } from './tensor-map.js';
import { byteLevelBpeTokenizer } from './tokenizer-json.js';

/** Canonical random weights for a spec (same seed → same values). */
export function randomWeights(spec: ModelSpec, seed: number): Map<string, F32Tensor> {
  const rng = Rng.fromSeed(seed);
  const residual = 1 / Math.sqrt(2 * spec.nLayers);
  const out = new Map<string, F32Tensor>();
  for (const { name, dims } of expectedWeights(spec)) {
    const data = new Float32Array(dims.reduce((a, b) => a * b, 1));
    const isNorm = /norm\.(weight|bias)$/.test(name);
    if (isNorm && name.endsWith('.weight')) rng.fillNormal(data, 0.1, spec.norm.kind === 'rms_one_plus' ? 0 : 1);
    else if (name.endsWith('.bias') || name === 'position_embeddings.weight') rng.fillNormal(data, 0.1);
    else if (name === 'embed_tokens.weight' || name === 'lm_head.weight') rng.fillNormal(data, 1 / Math.sqrt(spec.dim));
    else {
      const scale = /\.(o_proj|down_proj)\.weight$/.test(name) ? residual : 1;
      rng.fillNormal(data, scale / Math.sqrt(dims[1]));
    }
    out.set(name, { dims, data });
  }
  return out;
}

export interface WriteHfOptions {
  family: Family;
  preset: HfPresetName;
  seed: number;
  dtype?: 'f32' | 'f16' | 'bf16';
  /** number of safetensors shards (1: a single model.safetensors) */
  shards?: number;
}

export interface WrittenHfModel {
  dir: string;
  spec: ModelSpec;
  /** the canonical float32 weights the files hold (before rounding to dtype) */
  weights: Map<string, F32Tensor>;
  files: string[];
}

const DTYPES: Record<'f32' | 'f16' | 'bf16', { safetensors: FloatDtype; torch: string }> = {
  f32: { safetensors: 'F32', torch: 'float32' },
  f16: { safetensors: 'F16', torch: 'float16' },
  bf16: { safetensors: 'BF16', torch: 'bfloat16' },
};

/** transformers validates these as floats, and JSON.stringify writes 30.0 as 30 */
const FLOAT_FIELDS = ['final_logit_softcapping', 'attn_logit_softcapping'];

function configJson(config: Record<string, unknown>): string {
  const pattern = new RegExp(`^(\\s*"(?:${FLOAT_FIELDS.join('|')})": -?\\d+)(,?)$`, 'gm');
  return JSON.stringify(config, null, 2).replace(pattern, '$1.0$2');
}

/** Writes a generated model folder (created if missing). */
export async function writeHfModel(dir: string, options: WriteHfOptions): Promise<WrittenHfModel> {
  const { family, preset, seed } = options;
  const dtype = DTYPES[options.dtype ?? 'f32'];
  const shards = options.shards ?? 1;
  if (!Number.isSafeInteger(shards) || shards < 1) throw new Error(`shards must be a positive integer (got ${shards})`);
  const p = hfFamilyPreset(family, preset);
  const config: Record<string, unknown> = { ...p.config, torch_dtype: dtype.torch };
  const { spec } = specFromHfConfig(config, `generated ${family} ${preset}`);
  const tok = byteLevelBpeTokenizer(p.special, spec.vocabSize, p.addBos);
  Object.assign(config, { bos_token_id: tok.ids.bos ?? tok.ids.eos, eos_token_id: tok.ids.eos, pad_token_id: tok.ids.pad ?? tok.ids.eos });

  const weights = randomWeights(spec, seed);
  const layout = hfLayout(spec);
  if (shards > layout.length) throw new Error(`${shards} shards for ${layout.length} tensors`);
  // checkpoint tensors are built one shard at a time, so memory holds one shard's copy at most
  const shardTensors = (part: typeof layout): Record<string, TensorToWrite> =>
    Object.fromEntries(
      part.map((t) => [
        t.name,
        { dtype: dtype.safetensors, shape: t.dims, data: fromCanonical(t, (n) => (weights.get(n) as F32Tensor).data) },
      ]),
    );

  await mkdir(dir, { recursive: true });
  const files: string[] = [];
  const put = async (name: string, content: string | Uint8Array): Promise<void> => {
    await writeFile(join(dir, name), content);
    files.push(name);
  };
  const metadata = { format: 'pt' };
  if (shards === 1) {
    await put(SINGLE_FILE, writeSafetensors(shardTensors(layout), metadata));
  } else {
    const weightMap: Record<string, string> = {};
    let totalSize = 0;
    const perShard = Math.ceil(layout.length / shards);
    for (let s = 0; s < shards; s++) {
      const part = layout.slice(s * perShard, (s + 1) * perShard);
      const file = `model-${String(s + 1).padStart(5, '0')}-of-${String(shards).padStart(5, '0')}.safetensors`;
      await put(file, writeSafetensors(shardTensors(part), metadata));
      for (const t of part) {
        weightMap[t.name] = file;
        totalSize += t.dims.reduce((a, b) => a * b, 1) * (dtype.safetensors === 'F32' ? 4 : 2);
      }
    }
    await put(INDEX_FILE, JSON.stringify({ metadata: { total_size: totalSize }, weight_map: weightMap }, null, 2));
  }
  await put('config.json', configJson(config));
  await put('tokenizer.json', JSON.stringify(tok.tokenizer));
  await put('tokenizer_config.json', JSON.stringify(tok.tokenizerConfig, null, 2));
  await put('generation_config.json', JSON.stringify({ bos_token_id: config.bos_token_id, eos_token_id: tok.ids.eos }, null, 2));
  return { dir, spec, weights, files };
}
