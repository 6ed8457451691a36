/**
 * Weights held quantized in blocks of 32 along a matrix's input axis (its last), one float32
 * scale per block, symmetric: q8 holds round(x / s) in int8 with s = max|x| / 127 (GGUF Q8_0's
 * rule); q4 holds round(x / s) + 8 in 4 bits, s = max|x| / 7 (values −8…7 × s), two per byte
 * (element 2j in the low nibble of byte j, 2j+1 in the high one). The graph dequantizes a matrix
 * right before each use (stored-weight.ts) with standard ONNX integer ops.
 */
import type { GraphBuilder, Value } from './builder.js';
import { onnxTypeCode, type FloatDType } from './dtype.js';

export type QuantBits = 8 | 4;
export const BLOCK = 32;

export interface QuantizedMatrix {
  /** q8: one int8 per value; q4: two 4-bit values per byte */
  data: Int8Array;
  /** one per block of 32 along the last axis */
  scales: Float32Array;
}

/** Quantizes `values` (rows of `rowLength`, a multiple of 32) to `bits`; `name` names the tensor in errors. */
export function quantize(name: string, values: Float32Array | Float64Array, rowLength: number, bits: QuantBits): QuantizedMatrix {
  if (rowLength % BLOCK !== 0)
    throw new Error(`weights dtype q${bits}: tensor "${name}" has rows of ${rowLength} values, not a multiple of ${BLOCK}; use f16 or f32`);
  const top = bits === 8 ? 127 : 7;
  const blocks = values.length / BLOCK;
  const scales = new Float32Array(blocks);
  const data = new Int8Array(bits === 8 ? values.length : values.length / 2);
  for (let b = 0; b < blocks; b++) {
    let amax = 0;
    for (let i = b * BLOCK; i < (b + 1) * BLOCK; i++) amax = Math.max(amax, Math.abs(values[i]));
    if (!Number.isFinite(amax)) throw new Error(`weights dtype q${bits}: tensor "${name}" holds a non-finite value in block ${b}`);
    const scale = Math.fround(amax / top);
    scales[b] = scale;
    for (let i = b * BLOCK; i < (b + 1) * BLOCK; i++) {
      const q = scale === 0 ? 0 : Math.max(-top - (bits === 4 ? 1 : 0), Math.min(top, Math.round(values[i] / scale)));
      if (bits === 8) data[i] = q;
      else data[i >> 1] |= (q + 8) << (i & 1 ? 4 : 0);
    }
  }
  return { data, scales };
}

/** The float values of a quantized matrix (what the graph computes with). */
export function dequantize(m: QuantizedMatrix, bits: QuantBits): Float32Array {
  const out = new Float32Array(m.scales.length * BLOCK);
  for (let i = 0; i < out.length; i++) {
    const q = bits === 8 ? m.data[i] : ((m.data[i >> 1] & 0xff) >> (i & 1 ? 4 : 0)) & 0xf;
    out[i] = (bits === 8 ? q : q - 8) * m.scales[i >> 5];
  }
  return out;
}

/** Graph nodes giving the matrix [..., n] in `dtype` from its data [..., n or n/2] and scales [..., n/32]. */
export function dequantizeNodes(g: GraphBuilder, data: Value, scales: Value, bits: QuantBits, dtype: FloatDType): Value {
  const lead = data.shape.slice(0, -1);
  const n = scales.shape[scales.shape.length - 1] * BLOCK;
  const node = (op: string, inputs: Value[], type: Value['dtype'], shape: readonly number[]): Value =>
    g.node(op, inputs, [{ dtype: type, shape }], op === 'Cast' ? { to: { kind: 'int', value: onnxTypeCode[type] } } : {})[0];
  let q: Value;
  if (bits === 8) q = node('Cast', [data], 'int32', data.shape);
  else {
    // bytes as int32 (−128…127): low = b mod 16, high = ((b − low) / 16) mod 16 (ONNX Mod takes the divisor's sign)
    const bytes = node('Cast', [data], 'int32', data.shape);
    const sixteen = g.scalar('int32', 16);
    const low = node('Mod', [bytes, sixteen], 'int32', data.shape);
    const high = node(
      'Mod',
      [node('Div', [node('Sub', [bytes, low], 'int32', data.shape), sixteen], 'int32', data.shape), sixteen],
      'int32',
      data.shape,
    );
    const pairs = [...data.shape, 1];
    const column = (v: Value): Value => node('Reshape', [v, g.int64s(pairs)], 'int32', pairs);
    const both = g.node('Concat', [column(low), column(high)], [{ dtype: 'int32', shape: [...data.shape, 2] }], {
      axis: { kind: 'int', value: -1 },
    })[0];
    q = node('Sub', [node('Reshape', [both, g.int64s([...lead, n])], 'int32', [...lead, n]), g.scalar('int32', 8)], 'int32', [...lead, n]);
  }
  const blocked = [...lead, n / BLOCK, BLOCK];
  const values = node('Reshape', [node('Cast', [q], dtype, q.shape), g.int64s(blocked)], dtype, blocked);
  const perBlock = node('Reshape', [scales, g.int64s([...lead, n / BLOCK, 1])], scales.dtype, [...lead, n / BLOCK, 1]);
  const scaled = node('Mul', [values, dtype === scales.dtype ? perBlock : node('Cast', [perBlock], dtype, perBlock.shape)], dtype, blocked);
  return node('Reshape', [scaled, g.int64s([...lead, n])], dtype, [...lead, n]);
}
