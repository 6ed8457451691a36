/**
 * One benchmark case as a safetensors file both sides read, so they run the very same step:
 * the model weights under llama2.c names (row-major (out, in)), the batch (`tokens` as F32 ids,
 * `loss_mask` [B, T], 1 where token t is predicted), the initial `prompt_embeddings` [P, dim],
 * and metadata `config` (LlamaConfig JSON) and `step` (StepSettings JSON).
 */
import { readSafetensors, tensorToFloat32, writeSafetensors, type TensorToWrite } from '../../services/engine/formats/safetensors.js';
import type { F32Tensor, LlamaWeights } from '../../services/engine/model/llama.js';

export interface StepSettings {
  threads: number;
  lr: number;
  weightDecay: number;
  gradClip: number;
  warmup: number;
  repeats: number;
}

export interface StepCase {
  weights: LlamaWeights;
  batch: number;
  seqLen: number;
  tokens: BigInt64Array;
  lossMask: Float32Array;
  prompt: Float32Array;
  step: StepSettings;
}

const layerNames = {
  attnNorm: 'attention_norm', wq: 'wq', wk: 'wk', wv: 'wv', wo: 'wo', ffnNorm: 'ffn_norm', w1: 'w1', w2: 'w2', w3: 'w3',
} as const;

export function encodeCase(c: StepCase): Uint8Array {
  const t = (x: F32Tensor): TensorToWrite => ({ dtype: 'F32', shape: x.dims, data: x.data });
  const w = c.weights;
  const tensors: Record<string, TensorToWrite> = {
    tok_embeddings: t(w.tokenEmbedding),
    norm: t(w.outputNorm),
    output: t(w.output),
    tokens: { dtype: 'F32', shape: [c.batch, c.seqLen], data: Float32Array.from(c.tokens, Number) },
    loss_mask: { dtype: 'F32', shape: [c.batch, c.seqLen], data: c.lossMask },
    prompt_embeddings: { dtype: 'F32', shape: [c.prompt.length / w.config.dim, w.config.dim], data: c.prompt },
  };
  w.layers.forEach((layer, l) => {
    for (const [key, name] of Object.entries(layerNames)) tensors[`layers.${l}.${name}`] = t(layer[key as keyof typeof layerNames]);
  });
  return writeSafetensors(tensors, { config: JSON.stringify(w.config), step: JSON.stringify(c.step) });
}

export function decodeCase(bytes: Uint8Array): StepCase {
  const file = readSafetensors(bytes, { source: 'bench case' });
  const get = (name: string): F32Tensor => ({ dims: file.tensors[name].shape, data: tensorToFloat32(file.tensors[name]) });
  const config = JSON.parse(file.metadata.config) as LlamaWeights['config'];
  const layers = Array.from({ length: config.nLayers }, (_, l) => {
    const entries = Object.entries(layerNames).map(([key, name]) => [key, get(`layers.${l}.${name}`)]);
    return Object.fromEntries(entries) as LlamaWeights['layers'][number];
  });
  const tokens = get('tokens');
  const prompt = get('prompt_embeddings');
  return {
    weights: { config, tokenEmbedding: get('tok_embeddings'), layers, outputNorm: get('norm'), output: get('output') },
    batch: tokens.dims[0],
    seqLen: tokens.dims[1],
    tokens: BigInt64Array.from(tokens.data, (x) => BigInt(x)),
    lossMask: get('loss_mask').data,
    prompt: prompt.data,
    step: JSON.parse(file.metadata.step) as StepSettings,
  };
}
