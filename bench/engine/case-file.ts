/**
 * One benchmark case as a safetensors file both sides read, so they run the very same step: the
 * batch (`tokens` as F32 ids, `loss_mask` [B, T], 1 where token t is predicted), the initial
 * `prompt_embeddings` [P, dim], metadata `step` (StepSettings JSON), and the model — either its
 * weights under llama2.c names (row-major (out, in)) with metadata `config` (LlamaConfig JSON), or
 * metadata `hf_folder`: a Hugging Face checkpoint folder both sides load (the per-family cases).
 */
import { readSafetensors, tensorToFloat32, writeSafetensors, type TensorToWrite } from '../../services/engine/formats/safetensors.js';
import type { F32Tensor, LlamaWeights } from '../../services/engine/model/llama.js';
import type { WeightsDtype } from '../../services/engine/model/weights-dtype.js';

export interface StepSettings {
  threads: number;
  lr: number;
  weightDecay: number;
  gradClip: number;
  warmup: number;
  repeats: number;
  /** ours: how the frozen weights are held (default auto: the file's precision) */
  weightsDtype?: WeightsDtype;
  /** ours: per-layer recomputation in the backward pass */
  recompute?: boolean;
  /** PyTorch (folder cases): the dtype reference.py loads the weights in and computes in (default float32) */
  torchDtype?: 'float32' | 'bfloat16';
  /** ours: onnxruntime's execution provider (default cpu) */
  executionProvider?: 'cpu' | 'cuda';
}

export interface StepBatch {
  batch: number;
  seqLen: number;
  tokens: BigInt64Array;
  lossMask: Float32Array;
  /** [P, dim] row-major */
  prompt: Float32Array;
  step: StepSettings;
}

/** a llama2.c-layout model carried in the case file itself */
export interface StepCase extends StepBatch {
  weights: LlamaWeights;
}

/** a model in a Hugging Face folder (any family), which each side loads with its own reader */
export interface FolderStepCase extends StepBatch {
  hfFolder: string;
  dim: number;
}

export const layerNames = {
  attnNorm: 'attention_norm',
  wq: 'wq',
  wk: 'wk',
  wv: 'wv',
  wo: 'wo',
  ffnNorm: 'ffn_norm',
  w1: 'w1',
  w2: 'w2',
  w3: 'w3',
} as const;

export function encodeCase(c: StepCase | FolderStepCase): Uint8Array {
  const t = (x: F32Tensor): TensorToWrite => ({ dtype: 'F32', shape: x.dims, data: x.data });
  const dim = 'weights' in c ? c.weights.config.dim : c.dim;
  const tensors: Record<string, TensorToWrite> = {
    tokens: { dtype: 'F32', shape: [c.batch, c.seqLen], data: Float32Array.from(c.tokens, Number) },
    loss_mask: { dtype: 'F32', shape: [c.batch, c.seqLen], data: c.lossMask },
    prompt_embeddings: { dtype: 'F32', shape: [c.prompt.length / dim, dim], data: c.prompt },
  };
  const metadata: Record<string, string> = { step: JSON.stringify(c.step) };
  if ('weights' in c) {
    const w = c.weights;
    Object.assign(tensors, { tok_embeddings: t(w.tokenEmbedding), norm: t(w.outputNorm), output: t(w.output) });
    w.layers.forEach((layer, l) => {
      for (const [key, name] of Object.entries(layerNames)) tensors[`layers.${l}.${name}`] = t(layer[key as keyof typeof layerNames]);
    });
    metadata.config = JSON.stringify(w.config);
  } else {
    metadata.hf_folder = c.hfFolder;
  }
  return writeSafetensors(tensors, metadata);
}

export function decodeCase(bytes: Uint8Array): StepCase | FolderStepCase {
  const file = readSafetensors(bytes, { source: 'bench case' });
  const get = (name: string): F32Tensor => ({ dims: file.tensors[name].shape, data: tensorToFloat32(file.tensors[name]) });
  const tokens = get('tokens');
  const prompt = get('prompt_embeddings');
  const batch: StepBatch = {
    batch: tokens.dims[0],
    seqLen: tokens.dims[1],
    tokens: BigInt64Array.from(tokens.data, (x) => BigInt(x)),
    lossMask: get('loss_mask').data,
    prompt: prompt.data,
    step: JSON.parse(file.metadata.step) as StepSettings,
  };
  if (file.metadata.hf_folder !== undefined) return { ...batch, hfFolder: file.metadata.hf_folder, dim: prompt.dims[1] };
  const config = JSON.parse(file.metadata.config) as LlamaWeights['config'];
  const layers = Array.from({ length: config.nLayers }, (_, l) => {
    const entries = Object.entries(layerNames).map(([key, name]) => [key, get(`layers.${l}.${name}`)]);
    return Object.fromEntries(entries) as LlamaWeights['layers'][number];
  });
  return { ...batch, weights: { config, tokenEmbedding: get('tok_embeddings'), layers, outputNorm: get('norm'), output: get('output') } };
}
