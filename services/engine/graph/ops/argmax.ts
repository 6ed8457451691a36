import type { GraphBuilder, Value } from '../builder.js';
import { attr } from '../builder.js';
import { normalizeAxis } from './broadcast.js';

/** Index of the largest entry along `axis` (int64, axis removed); not differentiable. */
export function argmax(g: GraphBuilder, x: Value, axis = -1): Value {
  const ax = normalizeAxis(axis, x.shape.length);
  const shape = x.shape.filter((_, i) => i !== ax);
  return g.node('ArgMax', [x], [{ dtype: 'int64', shape }], { axis: attr.int(ax), keepdims: attr.int(0) })[0];
}
