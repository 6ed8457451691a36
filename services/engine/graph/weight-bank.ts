/**
 * The frozen weights of one loaded model in the decoder graph's layout, held once per process:
 * every graph built from the model (training, scoring, generation, every shape bucket) takes
 * them as bound graph inputs (builder.ts) and every onnxruntime session is fed these very
 * buffers, so neither the model files handed to onnxruntime nor the sessions hold a copy.
 *
 * Graph layout, by name:
 *   token_embedding [vocab, dim]              position_embedding [ctx, dim] (learned positions)
 *   layers.{i}.qkv_proj.weight [nH+2·nKv, hs, dim]: q, k, v rows stacked (heads-first projection)
 *   layers.{i}.qkv_proj.bias [nH+2·nKv, 1, hs]
 *   <norm>.weight / .bias: effective (Gemma's 1 + w; q-norm times the query scale)
 *   layers.{i}.{o,gate,up,down}_proj.weight / .bias, lm_head [vocab, dim]: the canonical tensors
 *
 * The query scale is not folded into the stacked q rows, so that the canonical q/k/v tensors of
 * a shared model (`shareWeights`) are plain views of the stacked buffer.
 */
import { type ModelSpec } from '../model/spec.js';
import { tensorOf, weightName, type DecoderModel, type F32Tensor } from '../model/weights.js';
import type { FloatDType } from './dtype.js';

/** One tensor of the bank: its data (float32, float64 in gradient checks) and graph-layout dims. */
export interface BankTensor {
  readonly data: Float32Array | Float64Array;
  readonly dims: readonly number[];
}

/** Norms whose stored weight the graph uses as is (no Gemma 1 + w, no folded scale). */
const plainNorm = (spec: ModelSpec, scale: number): boolean => spec.norm.kind !== 'rms_one_plus' && scale === 1;

/** Each model's banks, by dtype (float64 only in gradient checks). */
const banks = new WeakMap<DecoderModel, Map<FloatDType, WeightBank>>();

export class WeightBank {
  private readonly tensors = new Map<string, BankTensor>();

  /** The bank of `model` in `dtype`, built on first use and then shared by every graph of the model. */
  static of(model: DecoderModel, dtype: FloatDType = 'float32'): WeightBank {
    let byType = banks.get(model);
    if (!byType) banks.set(model, (byType = new Map()));
    let bank = byType.get(dtype);
    if (!bank) byType.set(dtype, (bank = new WeightBank(model, dtype)));
    return bank;
  }

  private constructor(
    model: DecoderModel,
    readonly dtype: FloatDType,
  ) {
    const { spec } = model;
    const { dim, headDim: hs, nHeads, nKvHeads } = spec;
    const heads = nHeads + 2 * nKvHeads;
    const w = (name: string): F32Tensor => tensorOf(model, name);
    const put = (name: string, data: Float32Array | Float64Array, dims: readonly number[]): void => {
      const typed = dtype === 'float32' ? (data instanceof Float32Array ? data : Float32Array.from(data)) : Float64Array.from(data);
      this.tensors.set(name, { data: typed, dims });
    };
    const canonical = (name: string): void => put(name, w(name).data, w(name).dims);
    const norm = (prefix: string, scale = 1): void => {
      const weight = w(`${prefix}.weight`);
      if (plainNorm(spec, scale)) put(`${prefix}.weight`, weight.data, weight.dims);
      else {
        put(`${prefix}.weight`, Float64Array.from(weight.data, (v) => (spec.norm.kind === 'rms_one_plus' ? 1 + v : v) * scale), weight.dims);
      }
      if (spec.norm.kind === 'layer') {
        const bias = w(`${prefix}.bias`);
        put(`${prefix}.bias`, scale === 1 ? bias.data : Float64Array.from(bias.data, (b) => b * scale), bias.dims);
      }
    };
    const stacked = (kind: 'weight' | 'bias', l: number): Float32Array => {
      const parts = (['q_proj', 'k_proj', 'v_proj'] as const).map((p) => w(weightName.layer(l, p, kind)).data);
      const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
      let at = 0;
      for (const p of parts) {
        out.set(p, at);
        at += p.length;
      }
      return out;
    };

    put('token_embedding', w(weightName.embedTokens).data, [spec.vocabSize, dim]);
    if (spec.positions.kind === 'learned') put('position_embedding', w(weightName.positionEmbeddings).data, [spec.contextLength, dim]);
    for (let l = 0; l < spec.nLayers; l++) {
      norm(`layers.${l}.input_norm`);
      put(`layers.${l}.qkv_proj.weight`, stacked('weight', l), [heads, hs, dim]);
      if (spec.attention.qkvBias) put(`layers.${l}.qkv_proj.bias`, stacked('bias', l), [heads, 1, hs]);
      if (spec.qkNorm) {
        norm(`layers.${l}.q_norm`, spec.attention.queryScale);
        norm(`layers.${l}.k_norm`);
      }
      canonical(weightName.layer(l, 'o_proj'));
      if (spec.attention.outBias) canonical(weightName.layer(l, 'o_proj', 'bias'));
      if (spec.sandwichNorms) norm(`layers.${l}.post_attention_norm`);
      norm(`layers.${l}.ffn_norm`);
      if (spec.sandwichNorms) norm(`layers.${l}.post_ffn_norm`);
      for (const part of spec.ffn.kind === 'gelu_mlp' ? (['up_proj', 'down_proj'] as const) : (['gate_proj', 'up_proj', 'down_proj'] as const)) {
        canonical(weightName.layer(l, part));
        if (spec.ffn.bias) canonical(weightName.layer(l, part, 'bias'));
      }
    }
    norm(weightName.finalNorm);
    if (!spec.embedding.tied) put('lm_head', w(weightName.lmHead).data, [spec.vocabSize, dim]);
  }

  /** The tensor `name` (graph layout), or an error naming it. */
  get(name: string): BankTensor {
    const t = this.tensors.get(name);
    if (!t) throw new Error(`weight bank: no tensor "${name}"`);
    return t;
  }

  /** Every tensor of the bank, by graph-layout name. */
  entries(): IterableIterator<[string, BankTensor]> {
    return this.tensors.entries();
  }
}

/**
 * The model with its float32 weight bank built, whose canonical tensors are the bank's buffers:
 * q/k/v (weights and biases) become views into the stacked rows, everything else is shared as
 * is. Once the caller drops `model`, JavaScript holds the weights once.
 */
export function shareWeights<M extends DecoderModel>(model: M): M {
  const bank = WeightBank.of(model);
  const tensors = new Map(model.tensors);
  const { nHeads, nKvHeads, headDim: hs, dim } = model.spec;
  for (let l = 0; l < model.spec.nLayers; l++) {
    for (const kind of model.spec.attention.qkvBias ? (['weight', 'bias'] as const) : (['weight'] as const)) {
      const rows = bank.get(`layers.${l}.qkv_proj.${kind}`).data as Float32Array;
      const width = kind === 'weight' ? dim : 1;
      let at = 0;
      for (const [part, count] of [
        ['q_proj', nHeads],
        ['k_proj', nKvHeads],
        ['v_proj', nKvHeads],
      ] as const) {
        const name = weightName.layer(l, part, kind);
        const length = count * hs * width;
        tensors.set(name, { dims: tensorOf(model, name).dims, data: rows.subarray(at, at + length) });
        at += length;
      }
    }
  }
  const shared = { ...model, tensors };
  banks.set(shared, new Map([['float32', bank]]));
  return shared;
}
