/**
 * Loads a Llama-architecture GGUF checkpoint (f32 / f16 / bf16 tensors) into float32 weights,
 * its tokenizer, and its fingerprint (sha256 of the whole file).
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { f32FromBf16Bytes, f32FromF16Bytes, f32FromF32Bytes } from '../formats/half.js';
import { GgufMetadata } from './gguf-metadata.js';
import { parseGgufHeader } from './gguf-parse.js';
import { textTokenizerFromMetadata } from '../tokenizer/gguf-tokenizer.js';
import { GgmlType, type GgufTensorInfo } from './gguf-types.js';
import type { F32Tensor, LlamaConfig, LlamaLayerWeights, LlamaWeights } from './llama.js';
import type { TextTokenizer } from '../tokenizer/text-tokenizer.js';

export interface LoadedModel {
  weights: LlamaWeights;
  tokenizer: TextTokenizer;
  /** sha256 hex of the file */
  fingerprint: string;
  architecture: string;
  path: string;
  /**
   * All metadata of the file. Note: `weights.config.contextLength` is what the file declares
   * (`llama.context_length`); GGUF does not record the length the model was trained at
   * (stories260K declares 2048 but was trained at 512).
   */
  metadata: GgufMetadata;
}

/** Files above this size are refused rather than read into memory. */
const MAX_FILE_BYTES = 4 * 1024 ** 3 - 1;

export async function loadGguf(path: string): Promise<LoadedModel> {
  const size = (await stat(path)).size;
  if (size > MAX_FILE_BYTES) throw new Error(`${path}: ${size} bytes is more than ptune can load (${MAX_FILE_BYTES})`);
  return loadGgufBytes(new Uint8Array(await readFile(path)), path);
}

/** Same as loadGguf for a file already in memory; `path` names it in errors. */
export function loadGgufBytes(bytes: Uint8Array, path: string): LoadedModel {
  const header = parseGgufHeader(bytes, path);
  const meta = new GgufMetadata(header.metadata, path);
  const architecture = meta.string('general.architecture');
  if (architecture !== 'llama') {
    throw new Error(`${path}: architecture "${architecture}" is not supported (only "llama")`);
  }
  const tokenizer = withSource(path, () => textTokenizerFromMetadata(meta, path));
  const config = llamaConfig(meta, tokenizer.vocabSize, path);

  const infos = new Map(header.tensors.map((t) => [t.name, t]));
  const tensor = (name: string, dims: number[]): F32Tensor => {
    const info = infos.get(name);
    if (!info) throw new Error(`${path}: tensor "${name}" is missing`);
    return readTensor(bytes, header.dataOffset, info, dims, path);
  };
  const { dim, hiddenDim, nLayers, vocabSize } = config;
  const qDim = dim; // nHeads * headSize
  const kvDim = (dim / config.nHeads) * config.nKvHeads;
  const layers: LlamaLayerWeights[] = [];
  for (let l = 0; l < nLayers; l++) {
    const p = `blk.${l}.`;
    layers.push({
      attnNorm: tensor(`${p}attn_norm.weight`, [dim]),
      wq: tensor(`${p}attn_q.weight`, [qDim, dim]),
      wk: tensor(`${p}attn_k.weight`, [kvDim, dim]),
      wv: tensor(`${p}attn_v.weight`, [kvDim, dim]),
      wo: tensor(`${p}attn_output.weight`, [dim, qDim]),
      ffnNorm: tensor(`${p}ffn_norm.weight`, [dim]),
      w1: tensor(`${p}ffn_gate.weight`, [hiddenDim, dim]),
      w2: tensor(`${p}ffn_down.weight`, [dim, hiddenDim]),
      w3: tensor(`${p}ffn_up.weight`, [hiddenDim, dim]),
    });
  }
  const tokenEmbedding = tensor('token_embd.weight', [vocabSize, dim]);
  const weights: LlamaWeights = {
    config,
    tokenEmbedding,
    layers,
    outputNorm: tensor('output_norm.weight', [dim]),
    output: infos.has('output.weight') ? tensor('output.weight', [vocabSize, dim]) : tokenEmbedding,
  };
  const fingerprint = createHash('sha256').update(bytes).digest('hex');
  return { weights, tokenizer, fingerprint, architecture, path, metadata: meta };
}

function withSource<T>(path: string, make: () => T): T {
  try {
    return make();
  } catch (e) {
    const message = (e as Error).message;
    throw new Error(message.startsWith(`${path}: `) ? message : `${path}: ${message}`, { cause: e });
  }
}

function llamaConfig(meta: GgufMetadata, vocabSize: number, path: string): LlamaConfig {
  const k = (s: string): string => `llama.${s}`;
  const dim = meta.count(k('embedding_length'));
  const nHeads = meta.count(k('attention.head_count'));
  const nKvHeads = meta.count(k('attention.head_count_kv'), nHeads);
  const config: LlamaConfig = {
    dim,
    hiddenDim: meta.count(k('feed_forward_length')),
    nLayers: meta.count(k('block_count')),
    nHeads,
    nKvHeads,
    vocabSize,
    contextLength: meta.count(k('context_length')),
    normEps: meta.float(k('attention.layer_norm_rms_epsilon')),
    ropeTheta: meta.float(k('rope.freq_base'), 10000),
  };
  const bad = (what: string): never => {
    throw new Error(`${path}: unsupported llama hyperparameters: ${what}`);
  };
  if (dim === 0 || nHeads === 0 || nKvHeads === 0 || config.hiddenDim === 0 || config.nLayers === 0) bad('a size is zero');
  if (dim % nHeads !== 0) bad(`embedding_length ${dim} is not a multiple of head_count ${nHeads}`);
  if (nHeads % nKvHeads !== 0) bad(`head_count ${nHeads} is not a multiple of head_count_kv ${nKvHeads}`);
  if ((dim / nHeads) % 2 !== 0) bad(`head size ${dim / nHeads} is odd (RoPE rotates pairs)`);
  const ropeDims = meta.count(k('rope.dimension_count'), dim / nHeads);
  if (ropeDims !== dim / nHeads) bad(`rope.dimension_count ${ropeDims} ≠ head size ${dim / nHeads} (partial RoPE)`);
  if (meta.has(k('rope.scaling.type')) && meta.string(k('rope.scaling.type')) !== 'none') bad('RoPE scaling');
  if (config.contextLength === 0) bad('context_length is zero');
  return config;
}

function readTensor(bytes: Uint8Array, dataOffset: number, info: GgufTensorInfo, rowMajorDims: number[], path: string): F32Tensor {
  const expected = [...rowMajorDims].reverse();
  if (info.dims.length !== expected.length || info.dims.some((d, i) => d !== expected[i])) {
    throw new Error(`${path}: tensor "${info.name}" has GGUF dims [${info.dims.join(', ')}], expected [${expected.join(', ')}]`);
  }
  const count = rowMajorDims.reduce((a, b) => a * b, 1);
  const at = dataOffset + info.offset;
  switch (info.typeCode) {
    case GgmlType.F32: return { dims: rowMajorDims, data: f32FromF32Bytes(bytes, at, count) };
    case GgmlType.F16: return { dims: rowMajorDims, data: f32FromF16Bytes(bytes, at, count) };
    case GgmlType.BF16: return { dims: rowMajorDims, data: f32FromBf16Bytes(bytes, at, count) };
    default:
      throw new Error(`${path}: tensor "${info.name}" has ggml type ${info.typeCode}; only F32, F16 and BF16 are supported (quantized models are not)`);
  }
}
