/**
 * Input rows of the step graph, computed on the host: what the full-sequence graph computes before
 * its first layer (decoder-graph.ts): a real token's embedding row times the spec's embedding scale
 * (rounded to float32 as the graph's Mul rounds it), or a virtual token's row as is, plus the
 * learned position row when the spec has learned positions. Float32 products and sums of float32
 * operands are exact in float64, so Math.fround gives the graph's float32 result bit for bit.
 * The tables are the model's weight bank's (../graph/weight-bank.ts), read in place: a token
 * embedding held in 16 bits or quantized is widened one row at a time, exactly as the graph's
 * Cast or dequantization does (a q8/q4 value times its float32 scale is exact before rounding).
 */
import { float16Values } from '../graph/dtype.js';
import { BLOCK, dequantize, type QuantBits } from '../graph/quantized.js';
import { quantBits, WeightBank, type BankTensor, type HeldPrecision } from '../graph/weight-bank.js';
import type { DecoderModel } from '../model/weights.js';

export class InputRows {
  private readonly dim: number;
  private readonly table: BankTensor['data'];
  /** the table's block scales [vocab, dim/32] when the bank holds it quantized */
  private readonly quantized: { scales: Float32Array; bits: QuantBits } | undefined;
  private readonly scale: number | undefined;
  private readonly positions: Float32Array | Float64Array | undefined;

  /** `held`: the bank's precision, as the step graphs use it (default: the loaded model's) */
  constructor(model: DecoderModel, held?: HeldPrecision) {
    const { spec } = model;
    const bank = WeightBank.of(model, 'float32', held);
    this.dim = spec.dim;
    this.table = bank.get('token_embedding').data;
    const bits = quantBits(bank.held);
    this.quantized = bits && { scales: bank.get('token_embedding.scales').data as Float32Array, bits };
    this.scale = spec.embedding.scale === undefined ? undefined : Math.fround(spec.embedding.scale);
    // learned positions are held in the compute dtype, like every vector of the bank
    const positions = spec.positions.kind === 'learned' ? bank.get('position_embedding').data : undefined;
    if (positions && !(positions instanceof Float32Array || positions instanceof Float64Array))
      throw new Error('weight bank: "position_embedding" is not held in float32');
    this.positions = positions;
  }

  /** Writes token `id`'s row at absolute `position` into `out` at row `row`. */
  token(id: number, position: number, out: Float32Array, row: number): void {
    const { dim, scale } = this;
    const src = this.embeddingRow(id);
    if (scale === undefined) out.set(src, row * dim);
    else for (let i = 0; i < dim; i++) out[row * dim + i] = Math.fround(src[i] * scale);
    this.addPosition(position, out, row);
  }

  /** Writes virtual token `index` of `embeddings` [P, dim] at absolute `position` into `out` at row `row`. */
  virtual(embeddings: Float32Array, index: number, position: number, out: Float32Array, row: number): void {
    out.set(embeddings.subarray(index * this.dim, (index + 1) * this.dim), row * this.dim);
    this.addPosition(position, out, row);
  }

  /** token `id`'s embedding row in float32: a view of a float32 table, else widened from the bank's row */
  private embeddingRow(id: number): Float32Array | Float64Array {
    const { dim, quantized } = this;
    if (quantized) {
      const bytes = quantized.bits === 8 ? dim : dim / 2;
      const data = (this.table as Int8Array).subarray(id * bytes, (id + 1) * bytes);
      return dequantize({ data, scales: quantized.scales.subarray((id * dim) / BLOCK, ((id + 1) * dim) / BLOCK) }, quantized.bits);
    }
    const stored = this.table.subarray(id * dim, (id + 1) * dim);
    return stored instanceof Uint16Array ? float16Values(stored) : (stored as Float32Array | Float64Array);
  }

  private addPosition(position: number, out: Float32Array, row: number): void {
    if (!this.positions) return;
    const { dim } = this;
    for (let i = 0; i < dim; i++) out[row * dim + i] = Math.fround(out[row * dim + i] + this.positions[position * dim + i]);
  }
}
