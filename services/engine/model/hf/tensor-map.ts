/**
 * Where each canonical weight (weights.ts) lives in a family's Hugging Face checkpoint: the
 * tensor names transformers' modeling file loads, fused tensors (Phi-3 qkv_proj and gate_up_proj,
 * GPT-2 c_attn) and GPT-2's Conv1D [in, out] layout. One table serves the reader (HF → canonical)
 * and the generator (canonical → HF).
 */
import type { ModelSpec } from '../spec.js';
import { expectedWeights, type LayerPart } from '../weights.js';

export interface HfTensor {
  /** name in the checkpoint */
  name: string;
  /** dims in the checkpoint */
  dims: number[];
  /** canonical tensors stacked along the output axis, in order */
  parts: { canonical: string; rows: number }[];
  /** GPT-2 Conv1D: the checkpoint holds W^T ([in, out]) */
  conv1d: boolean;
}

/** Prefix of the language model's tensors; multimodal Gemma 3 nests it. */
export interface HfNaming {
  model: string;
  lmHead: string;
}

export const DEFAULT_NAMING: Record<'llama' | 'gpt2', HfNaming> = {
  llama: { model: 'model.', lmHead: 'lm_head.weight' },
  gpt2: { model: 'transformer.', lmHead: 'lm_head.weight' },
};

const LLAMA_LAYER_PARTS: Record<LayerPart, string> = {
  input_norm: 'input_layernorm',
  q_proj: 'self_attn.q_proj',
  k_proj: 'self_attn.k_proj',
  v_proj: 'self_attn.v_proj',
  o_proj: 'self_attn.o_proj',
  q_norm: 'self_attn.q_norm',
  k_norm: 'self_attn.k_norm',
  post_attention_norm: 'post_attention_layernorm',
  ffn_norm: 'post_attention_layernorm', // without sandwich norms, HF's "post-attention" norm is the feed-forward's input norm
  post_ffn_norm: 'post_feedforward_layernorm',
  gate_proj: 'mlp.gate_proj',
  up_proj: 'mlp.up_proj',
  down_proj: 'mlp.down_proj',
};

const GPT2_LAYER_PARTS: Partial<Record<LayerPart, string>> = {
  input_norm: 'ln_1',
  q_proj: 'attn.c_attn',
  k_proj: 'attn.c_attn',
  v_proj: 'attn.c_attn',
  o_proj: 'attn.c_proj',
  ffn_norm: 'ln_2',
  up_proj: 'mlp.c_fc',
  down_proj: 'mlp.c_proj',
};

const CONV1D_PARTS = new Set<LayerPart>(['q_proj', 'k_proj', 'v_proj', 'o_proj', 'up_proj', 'down_proj']);

/** the checkpoint name of one canonical tensor (fused ones share a name) */
function hfName(spec: ModelSpec, canonical: string, naming: HfNaming): { name: string; conv1d: boolean } {
  const gpt2 = spec.family === 'gpt2';
  const top: Record<string, string> = gpt2
    ? {
        'embed_tokens.weight': 'wte.weight',
        'position_embeddings.weight': 'wpe.weight',
        'final_norm.weight': 'ln_f.weight',
        'final_norm.bias': 'ln_f.bias',
      }
    : { 'embed_tokens.weight': 'embed_tokens.weight', 'final_norm.weight': 'norm.weight' };
  if (canonical === 'lm_head.weight') return { name: naming.lmHead, conv1d: false };
  if (top[canonical]) return { name: naming.model + top[canonical], conv1d: false };
  const m = /^layers\.(\d+)\.([a-z_]+)\.(weight|bias)$/.exec(canonical);
  if (!m) throw new Error(`no Hugging Face name for canonical tensor "${canonical}"`);
  const part = m[2] as LayerPart;
  let hf = gpt2 ? GPT2_LAYER_PARTS[part] : LLAMA_LAYER_PARTS[part];
  if (!gpt2 && spec.sandwichNorms && part === 'ffn_norm') hf = 'pre_feedforward_layernorm';
  if (spec.family === 'phi3' && (part === 'q_proj' || part === 'k_proj' || part === 'v_proj')) hf = 'self_attn.qkv_proj';
  if (spec.family === 'phi3' && (part === 'gate_proj' || part === 'up_proj')) hf = 'mlp.gate_up_proj';
  if (hf === undefined) throw new Error(`no Hugging Face name for canonical tensor "${canonical}" in ${spec.family}`);
  const layers = gpt2 ? 'h' : 'layers';
  return { name: `${naming.model}${layers}.${m[1]}.${hf}.${m[3]}`, conv1d: gpt2 && CONV1D_PARTS.has(part) && m[3] === 'weight' };
}

/** The checkpoint's tensors for a spec, in canonical order (fused parts grouped in q,k,v / gate,up order). */
export function hfLayout(
  spec: ModelSpec,
  naming: HfNaming = spec.family === 'gpt2' ? DEFAULT_NAMING.gpt2 : DEFAULT_NAMING.llama,
): HfTensor[] {
  const byName = new Map<string, HfTensor>();
  for (const { name: canonical, dims } of expectedWeights(spec)) {
    const { name, conv1d } = hfName(spec, canonical, naming);
    const existing = byName.get(name);
    if (existing) {
      existing.parts.push({ canonical, rows: dims[0] });
      existing.dims[conv1d ? 1 : 0] += dims[0];
      continue;
    }
    byName.set(name, { name, dims: conv1d ? [dims[1], dims[0]] : [...dims], parts: [{ canonical, rows: dims[0] }], conv1d });
  }
  return [...byName.values()];
}

/** Splits (and un-transposes) a checkpoint tensor into its canonical parts: float32 values or 16-bit words alike. */
export function toCanonical<A extends Float32Array | Uint16Array>(t: HfTensor, data: A): Map<string, A> {
  const rowMajor = t.conv1d ? transpose(data, t.dims[0], t.dims[1]) : data;
  const width = t.dims.length === 1 ? 1 : t.conv1d ? t.dims[0] : t.dims.slice(1).reduce((a, b) => a * b, 1);
  const out = new Map<string, A>();
  let row = 0;
  for (const p of t.parts) {
    out.set(p.canonical, rowMajor.slice(row * width, (row + p.rows) * width) as A);
    row += p.rows;
  }
  return out;
}

/** Joins canonical parts into the checkpoint tensor (transposed for Conv1D). */
export function fromCanonical(t: HfTensor, get: (canonical: string) => Float32Array): Float32Array {
  const chunks = t.parts.map((p) => get(p.canonical));
  const joined = new Float32Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    joined.set(c, at);
    at += c.length;
  }
  return t.conv1d ? transpose(joined, t.dims[1], t.dims[0]) : joined;
}

/** [rows, cols] → [cols, rows] */
function transpose<A extends Float32Array | Uint16Array>(data: A, rows: number, cols: number): A {
  const out = new (data.constructor as new (length: number) => A)(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}
