/** Writes Llama weights + a SentencePiece tokenizer as a GGUF v3 file that loadGguf reads back. */
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { tokenizerMetadata } from '../tokenizer/gguf-tokenizer.js';
import { serializeGguf, type GgufTensorToWrite } from './gguf-serialize.js';
import type { GgufValue } from './gguf-types.js';
import { blockElements, ggmlCodeOf, quantize, type StoredDType } from './quant/index.js';
import type { F32Tensor, LlamaWeights } from './llama.js';
import type { TokenizerSpec } from '../tokenizer/spm.js';

export interface WriteGgufOptions {
  /**
   * storage type of the matrices (1-D norm weights always stay f32, as llama.cpp does); default f32.
   * A matrix whose rows are not whole blocks of a quantized type falls back (see storageTypeFor).
   */
  dtype?: StoredDType;
  /** general.name */
  name?: string;
}

/**
 * The GGUF bytes. The classifier is omitted (tied) when `weights.output` is the same object as
 * `weights.tokenEmbedding`. The output is a pure function of the inputs (no timestamps).
 */
export function encodeLlamaGguf(weights: LlamaWeights, tokenizer: TokenizerSpec, options: WriteGgufOptions = {}): Uint8Array {
  const c = weights.config;
  if (tokenizer.pieces.length !== c.vocabSize) {
    throw new Error(`tokenizer has ${tokenizer.pieces.length} pieces but the model's vocabSize is ${c.vocabSize}`);
  }
  const dtype = options.dtype ?? 'f32';
  const u32 = (value: number): GgufValue => ({ type: 'u32', value });
  const f32 = (value: number): GgufValue => ({ type: 'f32', value });
  const metadata = new Map<string, GgufValue>([
    ['general.architecture', { type: 'string', value: 'llama' }],
    ['general.name', { type: 'string', value: options.name ?? 'ptune-generated' }],
    ['general.file_type', u32(llamaFileType[dtype])],
    ['llama.context_length', u32(c.contextLength)],
    ['llama.embedding_length', u32(c.dim)],
    ['llama.feed_forward_length', u32(c.hiddenDim)],
    ['llama.block_count', u32(c.nLayers)],
    ['llama.attention.head_count', u32(c.nHeads)],
    ['llama.attention.head_count_kv', u32(c.nKvHeads)],
    ['llama.attention.layer_norm_rms_epsilon', f32(c.normEps)],
    ['llama.rope.freq_base', f32(c.ropeTheta)],
    ['llama.rope.dimension_count', u32(c.dim / c.nHeads)],
    ['llama.vocab_size', u32(c.vocabSize)],
    ...tokenizerMetadata(tokenizer),
  ]);

  const tensors: GgufTensorToWrite[] = [];
  const add = (name: string, t: F32Tensor): void => {
    tensors.push(tensorToWrite(name, t, dtype));
  };
  add('token_embd.weight', weights.tokenEmbedding);
  add('output_norm.weight', weights.outputNorm);
  if (weights.output !== weights.tokenEmbedding) add('output.weight', weights.output);
  weights.layers.forEach((l, i) => {
    const p = `blk.${i}.`;
    add(`${p}attn_norm.weight`, l.attnNorm);
    add(`${p}attn_q.weight`, l.wq);
    add(`${p}attn_k.weight`, l.wk);
    add(`${p}attn_v.weight`, l.wv);
    add(`${p}attn_output.weight`, l.wo);
    add(`${p}ffn_norm.weight`, l.ffnNorm);
    add(`${p}ffn_gate.weight`, l.w1);
    add(`${p}ffn_down.weight`, l.w2);
    add(`${p}ffn_up.weight`, l.w3);
  });
  return serializeGguf(metadata, tensors);
}

/** Writes the file; returns its fingerprint (sha256 hex, as loadGguf computes it) and size. */
export async function writeGguf(
  path: string,
  weights: LlamaWeights,
  tokenizer: TokenizerSpec,
  options: WriteGgufOptions = {},
): Promise<{ fingerprint: string; bytes: number }> {
  const bytes = encodeLlamaGguf(weights, tokenizer, options);
  await writeFile(path, bytes);
  return { fingerprint: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length };
}

/** llama.cpp's general.file_type (LLAMA_FTYPE_*) of a file whose matrices are all `dtype`. */
const llamaFileType: Record<StoredDType, number> = {
  f32: 0,
  f16: 1,
  q4_0: 2,
  q4_1: 3,
  q8_0: 7,
  q5_0: 8,
  q5_1: 9,
  q2_k: 10,
  q3_k: 11,
  q4_k: 14,
  q5_k: 16,
  q6_k: 18,
  bf16: 32,
};

/** What llama.cpp's quantizer picks when a row is not whole K-quant blocks (IQ4_NL, which ptune does not read, becomes Q4_0). */
const kQuantFallback: Partial<Record<StoredDType, StoredDType>> = { q2_k: 'q4_0', q3_k: 'q4_0', q4_k: 'q5_0', q5_k: 'q5_1', q6_k: 'q8_0' };

/**
 * The type a tensor of row-major `dims` is stored in when the file's type is `dtype`: vectors stay
 * f32; a matrix whose rows are not whole blocks takes the 32-element fallback, then f16.
 */
export function storageTypeFor(dtype: StoredDType, dims: readonly number[]): StoredDType {
  if (dims.length < 2) return 'f32';
  const rowLength = dims[dims.length - 1];
  let type = dtype;
  if (rowLength % blockElements(type) !== 0) type = kQuantFallback[type] ?? type;
  return rowLength % blockElements(type) === 0 ? type : 'f16';
}

/** A row-major tensor encoded for a GGUF file whose matrices are `dtype`. */
export function tensorToWrite(name: string, t: F32Tensor, dtype: StoredDType): GgufTensorToWrite {
  const expected = t.dims.reduce((a, b) => a * b, 1);
  if (t.data.length !== expected) throw new Error(`tensor ${name}: ${t.data.length} values for dims [${t.dims.join(', ')}]`);
  const type = storageTypeFor(dtype, t.dims);
  return { name, dims: [...t.dims].reverse(), typeCode: ggmlCodeOf(type), data: quantize(type, t.data) };
}
