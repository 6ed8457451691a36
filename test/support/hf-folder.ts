/**
 * Writes a Hugging Face checkpoint folder of any size for platform tests: config.json, a byte-level
 * BPE tokenizer.json (the engine generator's), f16 safetensors shards in Llama's tensor layout (+ model.safetensors.index.json
 * when there are several). Tensor bytes are streamed (a seeded linear congruential sequence of finite f16 values) or left as a sparse hole (zeros,
 * no disk and no time: for the streaming tests, which move bytes and never look at them).
 */
import { open, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { byteLevelBpeTokenizer } from '../../services/engine/model/hf/tokenizer-json.js';

export interface HfFolderShape {
  hidden: number;
  layers: number;
  heads: number;
  kvHeads: number;
  ffn: number;
  vocab: number;
  context: number;
  shards: number;
}

export const SMALL_HF: HfFolderShape = { hidden: 32, layers: 2, heads: 4, kvHeads: 2, ffn: 64, vocab: 320, context: 128, shards: 2 };
/** ≈ 256 MiB of f16 weights (5 layers of 1024, vocab 32000). */
export const HF_256_MIB: HfFolderShape = {
  hidden: 1024,
  layers: 5,
  heads: 16,
  kvHeads: 16,
  ffn: 2816,
  vocab: 32000,
  context: 2048,
  shards: 2,
};
/** ≈ 1 GiB of f16 weights: TinyLlama's width (2048 / 5632, 32 / 4 heads, vocab 32000) with 9 of its 22 layers. */
export const HF_1_GIB: HfFolderShape = {
  hidden: 2048,
  layers: 9,
  heads: 32,
  kvHeads: 4,
  ffn: 5632,
  vocab: 32000,
  context: 2048,
  shards: 3,
};

type Tensor = [name: string, shape: number[]];

function tensorsOf(s: HfFolderShape): Tensor[] {
  const kv = (s.hidden / s.heads) * s.kvHeads;
  const tensors: Tensor[] = [['model.embed_tokens.weight', [s.vocab, s.hidden]]];
  for (let l = 0; l < s.layers; l++) {
    const p = `model.layers.${l}.`;
    tensors.push(
      [`${p}input_layernorm.weight`, [s.hidden]],
      [`${p}self_attn.q_proj.weight`, [s.hidden, s.hidden]],
      [`${p}self_attn.k_proj.weight`, [kv, s.hidden]],
      [`${p}self_attn.v_proj.weight`, [kv, s.hidden]],
      [`${p}self_attn.o_proj.weight`, [s.hidden, s.hidden]],
      [`${p}post_attention_layernorm.weight`, [s.hidden]],
      [`${p}mlp.gate_proj.weight`, [s.ffn, s.hidden]],
      [`${p}mlp.up_proj.weight`, [s.ffn, s.hidden]],
      [`${p}mlp.down_proj.weight`, [s.hidden, s.ffn]],
    );
  }
  tensors.push(['model.norm.weight', [s.hidden]], ['lm_head.weight', [s.vocab, s.hidden]]);
  return tensors;
}

/** Writes the folder into `dir` (which must exist); returns the file names written. */
export async function writeHfFolder(dir: string, shape: HfFolderShape, data: 'random' | 'sparse' = 'random'): Promise<string[]> {
  const json = (name: string, value: unknown) => writeFile(path.join(dir, name), JSON.stringify(value, null, 2));
  await json('config.json', {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    hidden_size: shape.hidden,
    intermediate_size: shape.ffn,
    num_hidden_layers: shape.layers,
    num_attention_heads: shape.heads,
    num_key_value_heads: shape.kvHeads,
    vocab_size: shape.vocab,
    max_position_embeddings: shape.context,
    rms_norm_eps: 1e-5,
    torch_dtype: 'float16',
  });
  const tokenizer = byteLevelBpeTokenizer({ bos: '<s>', eos: '</s>' }, shape.vocab, true);
  await json('tokenizer.json', tokenizer.tokenizer);
  await json('tokenizer_config.json', tokenizer.tokenizerConfig);
  await json('generation_config.json', { bos_token_id: tokenizer.ids.bos, eos_token_id: tokenizer.ids.eos });

  const tensors = tensorsOf(shape);
  const perShard = Math.ceil(tensors.length / shape.shards);
  const names =
    shape.shards === 1
      ? ['model.safetensors']
      : Array.from(
          { length: shape.shards },
          (_, i) => `model-${String(i + 1).padStart(5, '0')}-of-${String(shape.shards).padStart(5, '0')}.safetensors`,
        );
  const weightMap: Record<string, string> = {};
  let seed = 1;
  for (const [i, name] of names.entries()) {
    const slice = tensors.slice(i * perShard, (i + 1) * perShard);
    for (const [tensor] of slice) weightMap[tensor] = name;
    await writeShard(path.join(dir, name), slice, data, seed++);
  }
  if (shape.shards > 1) await json('model.safetensors.index.json', { metadata: { total_size: 0 }, weight_map: weightMap });
  return [
    'config.json',
    'tokenizer.json',
    'tokenizer_config.json',
    'generation_config.json',
    ...names,
    ...(shape.shards > 1 ? ['model.safetensors.index.json'] : []),
  ].sort();
}

async function writeShard(file: string, tensors: Tensor[], data: 'random' | 'sparse', seed: number): Promise<void> {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const [name, shape] of tensors) {
    const bytes = shape.reduce((a, b) => a * b, 1) * 2;
    header[name] = { dtype: 'F16', shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let text = JSON.stringify(header);
  text += ' '.repeat((8 - (text.length % 8)) % 8);
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(text.length));
  const handle = await open(file, 'w');
  try {
    await handle.write(Buffer.concat([prefix, Buffer.from(text)]));
    if (data === 'sparse') {
      await handle.truncate(8 + text.length + offset);
      return;
    }
    // seeded so that two folders written with the same shape are byte-identical
    const chunk = Buffer.alloc(1 << 20);
    let state = seed;
    for (let left = offset; left > 0; left -= chunk.length) {
      const n = Math.min(chunk.length, left);
      for (let i = 0; i < n; i += 2) chunk.writeUInt16LE((state = (state * 1103515245 + 12345) >>> 0) & 0x3bff, i);
      await handle.write(chunk, 0, n);
    }
  } finally {
    await handle.close();
  }
}
