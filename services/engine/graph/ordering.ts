import type { GraphBuilder, Value } from './builder.js';
import { add } from './ops/add.js';
import { slice } from './ops/pad-slice.js';

/**
 * `v` itself (Reshape to its own shape aliases it: no copy), but as a value onnxruntime can only
 * compute once `after` exists. A node reading nothing but graph inputs or early values may
 * otherwise run at the start of the step, and what it produces then lives until its late use
 * (a widened weight, a recomputed layer). The new shape is `v`'s plus ArgMax of one element of
 * `after`: always 0, whatever the value (NaN included), and unknown before the run, so not folded.
 */
export function orderedAfter(g: GraphBuilder, v: Value, after: Value): Value {
  const flat = g.node('Reshape', [after, g.int64s([-1])], [{ dtype: after.dtype, shape: [after.shape.reduce((a, b) => a * b, 1)] }])[0];
  const zero = g.node('ArgMax', [slice(g, flat, 0, 0, 1)], [{ dtype: 'int64', shape: [1] }], {
    axis: { kind: 'int', value: 0 },
    keepdims: { kind: 'int', value: 1 },
  })[0];
  return g.node('Reshape', [v, add(g, g.int64s(v.shape), zero)], [{ dtype: v.dtype, shape: v.shape }])[0];
}
