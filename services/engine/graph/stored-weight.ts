import type { GraphBuilder, Value } from './builder.js';
import type { FloatDType } from './dtype.js';
import { cast } from './ops/cast.js';
import { orderedAfter } from './ordering.js';
import { slice } from './ops/pad-slice.js';
import { dequantizeNodes, type QuantBits } from './quantized.js';

/**
 * A frozen weight held at a narrower precision than the graph computes in (float16, or quantized
 * blocks): the
 * op using it widens it on each use, once in its forward and again in its gradient rule, so no
 * wide copy has to live from a layer's forward to its backward (the two widenings are ordered
 * after different values, so common-subexpression elimination cannot merge them).
 */
export interface StoredWeight {
  /** the bound graph input holding the stored values: float16 bits, or quantized blocks (quantized.ts) */
  readonly stored: Value;
  /** quantized: the blocks' scales and the bits per value */
  readonly quantized?: { scales: Value; bits: QuantBits };
  readonly name: string;
  /** the weight's own shape (what it widens to) */
  readonly shape: readonly number[];
}

/** A frozen weight as an op takes it: a value in the compute dtype, or stored narrower. */
export type Weight = Value | StoredWeight;

export const isStored = (w: Weight): w is StoredWeight => !('dtype' in w);

/**
 * The weight in `dtype`: `w` itself, or freshly widened nodes that run only once `after` exists
 * (ordering.ts): without that, onnxruntime may widen every layer's weight at the start of the
 * step, and all of them would be alive at once.
 */
export function widened(g: GraphBuilder, w: Weight, after: Value, dtype: FloatDType): Value {
  return isStored(w) ? widenedFrom(g, w, orderedAfter(g, w.stored, after), dtype) : w;
}

/** The stored weight in `dtype` from `stored` (its data, or some of its rows, e.g. gathered embeddings). */
export function widenedFrom(g: GraphBuilder, w: StoredWeight, stored: Value, dtype: FloatDType, scales = w.quantized?.scales): Value {
  return w.quantized && scales ? dequantizeNodes(g, stored, scales, w.quantized.bits, dtype) : cast(g, stored, dtype);
}

/** Rows [from, to) of the stored weight in `dtype`, sliced and widened only once `after` exists. */
export function widenedRows(g: GraphBuilder, w: StoredWeight, from: number, to: number, after: Value, dtype: FloatDType): Value {
  const rowsOf = (v: Value): Value => slice(g, orderedAfter(g, v, after), 0, from, to);
  return widenedFrom(g, w, rowsOf(w.stored), dtype, w.quantized && rowsOf(w.quantized.scales));
}
