/** Writes Llama weights + a SentencePiece tokenizer as a GGUF v3 file that loadGguf reads back. */
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { f32ToF16Bytes, f32ToF32Bytes } from '../formats/half.js';
import { tokenizerMetadata } from '../tokenizer/gguf-tokenizer.js';
import { serializeGguf, type GgufTensorToWrite } from './gguf-serialize.js';
import { GgmlType, type GgufValue } from './gguf-types.js';
import type { F32Tensor, LlamaWeights } from './llama.js';
import type { TokenizerSpec } from '../tokenizer/spm.js';

export interface WriteGgufOptions {
  /** storage type of the matrices (1-D norm weights always stay f32, as llama.cpp does); default f32 */
  dtype?: 'f32' | 'f16';
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
    ['general.file_type', u32(dtype === 'f16' ? 1 : 0)],
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
    const expected = t.dims.reduce((a, b) => a * b, 1);
    if (t.data.length !== expected) throw new Error(`tensor ${name}: ${t.data.length} values for dims [${t.dims.join(', ')}]`);
    const half = dtype === 'f16' && t.dims.length > 1;
    tensors.push({
      name,
      dims: [...t.dims].reverse(),
      typeCode: half ? GgmlType.F16 : GgmlType.F32,
      data: half ? f32ToF16Bytes(t.data) : f32ToF32Bytes(t.data),
    });
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
  path: string, weights: LlamaWeights, tokenizer: TokenizerSpec, options: WriteGgufOptions = {},
): Promise<{ fingerprint: string; bytes: number }> {
  const bytes = encodeLlamaGguf(weights, tokenizer, options);
  await writeFile(path, bytes);
  return { fingerprint: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length };
}
