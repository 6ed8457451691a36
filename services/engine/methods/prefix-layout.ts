/**
 * PEFT's prefix-tuning tensor layout. PEFT stores `prompt_embeddings` [P, L·2·kvDim] and, in
 * `PeftModel.get_prompt`, views each row as [L·2, nKvHeads, headSize] (for grouped-query attention
 * `_prepare_prompt_learning_config` sets token_dim = kvDim = nKvHeads·headSize and
 * num_attention_heads = nKvHeads), permutes to [L·2, batch, nKvHeads, P, headSize] and splits it
 * into L chunks of two: layer l's key is entry 2l, its value 2l+1. So, within a row,
 *   key   of layer l, kv head h, dim d is at ((2l)·nKvHeads + h)·headSize + d,
 *   value of layer l, kv head h, dim d is at ((2l+1)·nKvHeads + h)·headSize + d.
 *
 * Keys are stored exactly as the family's Hugging Face attention consumes `past_key_values`:
 * after the k-norm (Qwen3, Gemma 3) and already past RoPE (a prefix key is never rotated — HF
 * rotates only the new tokens' keys, and the real tokens' positions start at P), in the
 * rotate-half ("halves") layout within each head that HF checkpoints use (dims 0..hs/2−1 are the
 * first element of each RoPE pair, hs/2..hs−1 the second); headSize is the spec's headDim (Gemma's
 * differs from dim / heads). That is the canonical layout (the GGUF loader un-permutes llama
 * q/k rows from adjacent pairs, as HF's Llama conversion does), so a prefix trained here on a
 * GGUF model and loaded with PEFT on the HF conversion of that model gives the same scores.
 * Code that works on GGUF-layout keys (llama.cpp) must interleave the halves back into adjacent
 * pairs: halves index j < hs/2 ↔ pair index 2j, j ≥ hs/2 ↔ 2(j − hs/2) + 1. Values need nothing.
 */
import type { GraphBuilder, Value } from '../graph/builder.js';
import { reshape, split, transpose } from '../graph/ops/index.js';
import { headDimOf, type ModelShape } from '../model/spec.js';

/** kvDim = nKvHeads · headSize: one layer's key (or value) width; PEFT's token_dim for prefix tuning. */
export const kvDim = (c: ModelShape): number => c.nKvHeads * headDimOf(c);

/** Width of one stored prefix row: numLayers · 2 · kvDim. */
export const prefixWidth = (c: ModelShape): number => c.nLayers * 2 * kvDim(c);

/** Offset within a stored row of layer `layer`'s key (kv 0) or value (kv 1), kv head `head`, dim `d`. */
export const prefixOffset = (c: ModelShape, layer: number, kv: 0 | 1, head: number, d: number): number =>
  ((2 * layer + kv) * c.nKvHeads + head) * headDimOf(c) + d;

/** Splits a stored prefix [P, L·2·kvDim] into per-layer key and value [nKvHeads, P, headSize]. */
export function prefixLayers(g: GraphBuilder, stored: Value, c: ModelShape): { key: Value; value: Value }[] {
  const [P, width] = stored.shape;
  if (width !== prefixWidth(c))
    throw new Error(`prefix: a stored row has ${width} values; this model needs ${prefixWidth(c)} (layers·2·kvDim)`);
  const hs = headDimOf(c);
  const byEntry = transpose(g, reshape(g, stored, [P, 2 * c.nLayers, c.nKvHeads, hs]), [1, 2, 0, 3]); // [2L, nKv, P, hs]
  const entries = split(g, byEntry, 0, Array<number>(2 * c.nLayers).fill(1)).map((e) => reshape(g, e, [c.nKvHeads, P, hs]));
  return Array.from({ length: c.nLayers }, (_, l) => ({ key: entries[2 * l], value: entries[2 * l + 1] }));
}
