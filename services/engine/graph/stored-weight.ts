import type { GraphBuilder, Value } from './builder.js';
import type { FloatDType } from './dtype.js';
import { add } from './ops/add.js';
import { cast } from './ops/cast.js';
import { slice } from './ops/pad-slice.js';

/**
 * A frozen weight held at a narrower precision than the graph computes in (float16 today): the
 * op using it widens it on each use, once in its forward and again in its gradient rule, so no
 * wide copy has to live from a layer's forward to its backward (the two widenings depend on
 * different values, see `widened`, so common-subexpression elimination cannot merge them).
 */
export interface StoredWeight {
  /** the bound graph input holding the stored values */
  readonly stored: Value;
  readonly name: string;
  readonly shape: readonly number[];
}

/** A frozen weight as an op takes it: a value in the compute dtype, or stored narrower. */
export type Weight = Value | StoredWeight;

export const isStored = (w: Weight): w is StoredWeight => !('dtype' in w);

/**
 * The weight in `dtype`: `w` itself, or freshly widened nodes that run only once `after` exists. Without that data dependency onnxruntime may run a widening (which reads
 * nothing but a graph input) at the start of the step, so every layer's wide weight would be
 * alive at once. The dependency costs four tiny nodes and no copy: the weight is reshaped to its
 * own shape plus ArgMax of one element of `after` (always 0, whatever the value, NaN included;
 * not known before the run, so not folded away), and Reshape aliases its input.
 */
export function widened(g: GraphBuilder, w: Weight, after: Value, dtype: FloatDType): Value {
  if (!isStored(w)) return w;
  const first = slice(g, g.node('Reshape', [after, g.int64s([-1])], [{ dtype: after.dtype, shape: [after.shape.reduce((a, b) => a * b, 1)] }])[0], 0, 0, 1);
  const zero = g.node('ArgMax', [first], [{ dtype: 'int64', shape: [1] }], { axis: { kind: 'int', value: 0 }, keepdims: { kind: 'int', value: 1 } })[0];
  const shape = add(g, g.int64s(w.shape), zero);
  const ordered = g.node('Reshape', [w.stored, shape], [{ dtype: w.stored.dtype, shape: w.shape }])[0];
  return cast(g, ordered, dtype);
}
