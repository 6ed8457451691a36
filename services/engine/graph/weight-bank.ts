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
 * Matrices (embedding, projections, classifier) are held in float32, as float16 bits, or quantized
 * in blocks of 32 (quantized.ts), and the graph widens them per use (stored-weight.ts); norms, biases and learned
 * positions always in the compute dtype (they are tiny). The query scale is not folded into the
 * stacked q rows, so that the canonical q/k/v tensors of a shared float32 model (`shareWeights`)
 * are plain views of the stacked buffer.
 */
import type { ModelSpec } from '../model/spec.js';
import {
  checkWeights,
  expectedWeights,
  readAllWeights,
  tensorOf,
  weightName,
  type DecoderModel,
  type F32Tensor,
  type WeightSource,
} from '../model/weights.js';
import { bankPrecision, type HeldPrecision, type WeightsDtype } from '../model/weights-dtype.js';
import { bf16BitsToF32, f32ToF16Bits } from '../formats/half.js';
import { float16Bits, float16Values, numel, type FloatDType } from './dtype.js';
import { BLOCK, dequantize, quantize, type QuantBits } from './quantized.js';

/** One tensor of the bank: compute-dtype values, the float16 bits of a matrix held in 16 bits, or quantized blocks and their scales. */
export interface BankTensor {
  readonly data: Float32Array | Float64Array | Uint16Array | Int8Array;
  readonly dims: readonly number[];
}

// the rule for which precision a bank holds lives with the dtypes, so the memory estimate uses it too
export { heldPrecision, type HeldPrecision } from '../model/weights-dtype.js';

/** Bits per value of a quantized precision (quantized.ts), undefined for float ones. */
export const quantBits = (held: HeldPrecision): QuantBits | undefined => (held === 'q8' ? 8 : held === 'q4' ? 4 : undefined);

/** One bank tensor: the canonical tensors it is made of and how. */
interface PlanEntry {
  name: string;
  dims: readonly number[];
  /** held at the bank's precision (the tensors `heldAsMatrix` names, weights-dtype.ts); else in the compute dtype */
  matrix: boolean;
  from: readonly string[];
  make(parts: readonly Float32Array[]): Float32Array | Float64Array;
}

/** Whether `parts` lie back to back in one buffer (readAllWeights reads a layer's q, k, v that way). */
function adjacent(parts: readonly (Float32Array | Uint16Array)[]): boolean {
  return parts.every(
    (p, i) => i === 0 || (p.buffer === parts[0].buffer && p.byteOffset === parts[i - 1].byteOffset + parts[i - 1].byteLength),
  );
}

function concatenated<A extends Float32Array | Uint16Array>(parts: readonly A[]): A {
  if (parts.length === 1) return parts[0];
  if (adjacent(parts)) {
    const length = parts.reduce((n, p) => n + p.length, 0);
    return new (parts[0].constructor as new (b: ArrayBufferLike, offset: number, length: number) => A)(
      parts[0].buffer,
      parts[0].byteOffset,
      length,
    );
  }
  const out = new (parts[0].constructor as new (n: number) => A)(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The bank's tensors for a spec, in graph layout. */
function bankPlan(spec: ModelSpec): PlanEntry[] {
  const { dim, headDim: hs, nHeads, nKvHeads } = spec;
  const heads = nHeads + 2 * nKvHeads;
  const plan: PlanEntry[] = [];
  const as = (name: string, dims: readonly number[], matrix: boolean, from = name): void => {
    plan.push({ name, dims, matrix, from: [from], make: concatenated });
  };
  const norm = (prefix: string, width: number, scale = 1): void => {
    const plain = spec.norm.kind !== 'rms_one_plus' && scale === 1;
    const weight = `${prefix}.weight`;
    if (plain) as(weight, [width], false);
    else
      plan.push({
        name: weight,
        dims: [width],
        matrix: false,
        from: [weight],
        make: ([w]) => Float64Array.from(w, (v) => (spec.norm.kind === 'rms_one_plus' ? 1 + v : v) * scale),
      });
    if (spec.norm.kind === 'layer') {
      const bias = `${prefix}.bias`;
      plan.push({
        name: bias,
        dims: [width],
        matrix: false,
        from: [bias],
        make: ([b]) => (scale === 1 ? b : Float64Array.from(b, (v) => v * scale)),
      });
    }
  };
  const qkv = (l: number, kind: 'weight' | 'bias'): string[] =>
    (['q_proj', 'k_proj', 'v_proj'] as const).map((p) => weightName.layer(l, p, kind));

  as('token_embedding', [spec.vocabSize, dim], true, weightName.embedTokens);
  if (spec.positions.kind === 'learned') as('position_embedding', [spec.contextLength, dim], false, weightName.positionEmbeddings);
  for (let l = 0; l < spec.nLayers; l++) {
    const layer = (part: Parameters<typeof weightName.layer>[1], kind: 'weight' | 'bias', dims: number[]): void =>
      as(weightName.layer(l, part, kind), dims, kind === 'weight');
    norm(`layers.${l}.input_norm`, dim);
    plan.push({ name: `layers.${l}.qkv_proj.weight`, dims: [heads, hs, dim], matrix: true, from: qkv(l, 'weight'), make: concatenated });
    if (spec.attention.qkvBias)
      plan.push({ name: `layers.${l}.qkv_proj.bias`, dims: [heads, 1, hs], matrix: false, from: qkv(l, 'bias'), make: concatenated });
    if (spec.qkNorm) {
      norm(`layers.${l}.q_norm`, hs, spec.attention.queryScale);
      norm(`layers.${l}.k_norm`, hs);
    }
    layer('o_proj', 'weight', [dim, nHeads * hs]);
    if (spec.attention.outBias) layer('o_proj', 'bias', [dim]);
    if (spec.sandwichNorms) norm(`layers.${l}.post_attention_norm`, dim);
    norm(`layers.${l}.ffn_norm`, dim);
    if (spec.sandwichNorms) norm(`layers.${l}.post_ffn_norm`, dim);
    const ffn = spec.ffn.kind === 'gelu_mlp' ? (['up_proj', 'down_proj'] as const) : (['gate_proj', 'up_proj', 'down_proj'] as const);
    for (const part of ffn) {
      layer(part, 'weight', part === 'down_proj' ? [dim, spec.hiddenDim] : [spec.hiddenDim, dim]);
      if (spec.ffn.bias) layer(part, 'bias', [part === 'down_proj' ? dim : spec.hiddenDim]);
    }
  }
  norm(weightName.finalNorm, dim);
  if (!spec.embedding.tied) as('lm_head', [spec.vocabSize, dim], true, weightName.lmHead);
  return plan;
}

/** Each model's banks, by compute dtype (float64 only in gradient checks) and held precision. */
const banks = new WeakMap<DecoderModel, Map<string, WeightBank>>();
/** The precision a model was loaded to hold (`loadWeightBank`); f32 when absent. */
const loadedHeld = new WeakMap<DecoderModel, HeldPrecision>();
const key = (dtype: FloatDType, held: HeldPrecision): string => `${dtype}:${held}`;

/** The precision `model`'s weights were loaded to hold. */
export const loadedPrecision = (model: DecoderModel): HeldPrecision => loadedHeld.get(model) ?? 'f32';

export class WeightBank {
  private readonly tensors = new Map<string, BankTensor>();

  /**
   * The bank of `model` for `dtype` holding `held` (default: what the model was loaded to hold),
   * built on first use and then shared by every graph of the model.
   */
  static of(model: DecoderModel, dtype: FloatDType = 'float32', held?: HeldPrecision): WeightBank {
    const holds = held ?? loadedHeld.get(model) ?? 'f32';
    let byKey = banks.get(model);
    if (!byKey) banks.set(model, (byKey = new Map()));
    let bank = byKey.get(key(dtype, holds));
    if (!bank) {
      bank = new WeightBank(dtype, holds);
      for (const e of bankPlan(model.spec)) bank.add(e, e.make(e.from.map((n) => tensorOf(model, n).data)));
      byKey.set(key(dtype, holds), bank);
    }
    return bank;
  }

  private constructor(
    readonly dtype: FloatDType,
    readonly held: HeldPrecision,
  ) {}

  private add(e: PlanEntry, values: Float32Array | Float64Array): void {
    const bits = quantBits(this.held);
    if (e.matrix && bits) {
      // quantized along the input axis (the last); a q4 row holds two values per byte
      const last = e.dims[e.dims.length - 1];
      const { data, scales } = quantize(e.name, values, last, bits);
      this.tensors.set(e.name, { data, dims: [...e.dims.slice(0, -1), bits === 8 ? last : last / 2] });
      this.tensors.set(`${e.name}.scales`, { data: scales, dims: [...e.dims.slice(0, -1), last / BLOCK] });
      return;
    }
    if (e.matrix && this.held === 'f16') {
      this.tensors.set(e.name, { data: checkedFloat16(e.name, values), dims: e.dims });
      return;
    }
    const data =
      this.dtype === 'float32' ? (values instanceof Float32Array ? values : Float32Array.from(values)) : Float64Array.from(values);
    this.tensors.set(e.name, { data, dims: e.dims });
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

  /** Bytes the bank holds. */
  get byteLength(): number {
    let n = 0;
    for (const t of this.tensors.values()) n += t.data.byteLength;
    return n;
  }

  /**
   * Reads a model's weights into a float32-compute bank holding `held`, one canonical tensor at a
   * time from `source` (so a 16-bit bank never has the whole model in float32), and registers it
   * as `model`'s bank.
   */
  static async load(model: DecoderModel, source: WeightSource, held: HeldPrecision): Promise<WeightBank> {
    const bank = new WeightBank('float32', held);
    for (const e of bankPlan(model.spec)) {
      // a 16-bit matrix goes from the file's words to the bank's without a float32 copy
      if (e.matrix && held === 'f16')
        bank.tensors.set(e.name, { data: concatenated(await Promise.all(e.from.map((n) => readHalf(source, n)))), dims: e.dims });
      else bank.add(e, e.make(await Promise.all(e.from.map((n) => source.readF32(n)))));
    }
    banks.set(model, new Map([[key('float32', held), bank]]));
    loadedHeld.set(model, held);
    return bank;
  }
}

/** A canonical tensor as float16 bits: f16 words as stored; bf16, float32 and dequantized blocks rounded (range checked). */
async function readHalf(source: WeightSource, name: string): Promise<Uint16Array> {
  const t = await source.readStored(name);
  if (t.dtype === 'f16') return t.data;
  if (t.dtype === 'f32') return checkedFloat16(name, t.data);
  if (t.dtype !== 'bf16') return checkedFloat16(name, await source.readF32(name));
  const out = new Uint16Array(t.data.length);
  t.data.forEach((b, i) => {
    const value = bf16BitsToF32(b);
    out[i] = f32ToF16Bits(value);
    if ((out[i] & 0x7c00) === 0x7c00 && Number.isFinite(value))
      throw new Error(
        `weights dtype f16: tensor "${name}" holds ${value} (index ${i}), beyond float16's range ±65504; use --weights-dtype f32`,
      );
  });
  return out;
}

/** float16 bits of a matrix, refusing values float16 cannot hold (it would turn them into infinities). */
function checkedFloat16(name: string, values: Float32Array | Float64Array): Uint16Array {
  const bits = float16Bits(values instanceof Float32Array ? values : Float32Array.from(values));
  const wide = float16Values(bits);
  for (let i = 0; i < wide.length; i++) {
    if (!Number.isFinite(wide[i]) && Number.isFinite(values[i]))
      throw new Error(
        `weights dtype f16: tensor "${name}" holds ${values[i]} (index ${i}), beyond float16's range ±65504; use --weights-dtype f32`,
      );
  }
  return bits;
}

/**
 * The model with its float32 weight bank built, whose canonical tensors are the bank's buffers:
 * q/k/v (weights and biases) become views into the stacked rows, everything else is shared as
 * is. Once the caller drops `model`, JavaScript holds the weights once.
 */
export function shareWeights<M extends DecoderModel>(model: M): M {
  const bank = WeightBank.of(model, 'float32', 'f32');
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
  banks.set(shared, new Map([[key('float32', 'f32'), bank]]));
  return shared;
}

/**
 * Canonical float32 tensors of a model whose bank holds 16-bit or quantized matrices: norms and biases kept
 * (tiny), each matrix widened from the bank on `get` (a transient copy for the caller, e.g. a
 * prompt initialized from token embeddings).
 */
class WidenedTensors implements ReadonlyMap<string, F32Tensor> {
  private readonly matrices = new Map<string, { dims: number[]; read(): Float32Array }>();

  constructor(
    spec: ModelSpec,
    bank: WeightBank,
    private readonly small: ReadonlyMap<string, F32Tensor>,
  ) {
    const dimsOf = new Map(expectedWeights(spec).map((e) => [e.name, e.dims]));
    const bits = quantBits(bank.held);
    for (const e of bankPlan(spec)) {
      if (!e.matrix) continue;
      const data = bank.get(e.name).data;
      const scales = bits && (bank.get(`${e.name}.scales`).data as Float32Array);
      let offset = 0; // in values; the canonical parts of a stacked matrix are whole rows, so whole blocks
      for (const from of e.from) {
        const dims = dimsOf.get(from)!;
        const length = numel(dims);
        const at = offset;
        const read =
          bits && scales
            ? (): Float32Array =>
                dequantize(
                  {
                    data: (data as Int8Array).subarray(bits === 8 ? at : at / 2, bits === 8 ? at + length : (at + length) / 2),
                    scales: scales.subarray(at / BLOCK, (at + length) / BLOCK),
                  },
                  bits,
                )
            : (): Float32Array => float16Values((data as Uint16Array).subarray(at, at + length));
        this.matrices.set(from, { dims, read });
        offset += length;
      }
    }
  }

  get size(): number {
    return this.small.size + this.matrices.size;
  }
  has(name: string): boolean {
    return this.small.has(name) || this.matrices.has(name);
  }
  get(name: string): F32Tensor | undefined {
    const m = this.matrices.get(name);
    return m ? { dims: m.dims, data: m.read() } : this.small.get(name);
  }
  /** every tensor, matrices widened: a whole float32 copy, for tests and small models */
  private widenedAll(): Map<string, F32Tensor> {
    return new Map([...this.small.keys(), ...this.matrices.keys()].map((n) => [n, this.get(n)!]));
  }
  keys(): ReturnType<Map<string, F32Tensor>['keys']> {
    return new Map([...this.small.keys(), ...this.matrices.keys()].map((n) => [n, true])).keys();
  }
  values(): ReturnType<Map<string, F32Tensor>['values']> {
    return this.widenedAll().values();
  }
  entries(): ReturnType<Map<string, F32Tensor>['entries']> {
    return this.widenedAll().entries();
  }
  forEach(cb: (value: F32Tensor, key: string, map: ReadonlyMap<string, F32Tensor>) => void): void {
    this.widenedAll().forEach((v, k) => cb(v, k, this));
  }
  [Symbol.iterator](): ReturnType<Map<string, F32Tensor>['entries']> {
    return this.entries();
  }
}

/**
 * Reads an opened model's weights (checked against its spec) into its one weight bank, holding
 * the precision `weightsDtype` asks for (auto: the file's). float32: the canonical tensors are
 * views of the bank (`shareWeights`). 16 bits or quantized: read one tensor at a time, so the model is never
 * whole in float32; `tensors` then widens a matrix from the bank when asked for it.
 */
export async function loadWeightBank<M extends Omit<DecoderModel, 'tensors'> & { weights: WeightSource }>(
  model: M,
  source: string,
  weightsDtype: WeightsDtype = 'auto',
): Promise<M & DecoderModel> {
  const held = bankPrecision(model.weights.list(), weightsDtype);
  if (held === 'f32') return shareWeights({ ...model, tensors: await readAllWeights(model.spec, model.weights, source) });
  const expected = checkWeights(model.spec, model.weights, source);
  const loaded: M & DecoderModel = { ...model, tensors: new Map() };
  const bank = await WeightBank.load(loaded, model.weights, held);
  const small = new Map<string, F32Tensor>();
  for (const { name, dims } of expected) if (dims.length < 2) small.set(name, { dims, data: await model.weights.readF32(name) });
  loaded.tensors = new WidenedTensors(model.spec, bank, small);
  return loaded;
}
