import type { GraphBuilder, Value } from '../builder.js';
import { attr } from '../builder.js';
import { normalizeAxis } from './broadcast.js';
import { mul } from './mul.js';
import { reduceSum } from './reduce-sum.js';
import { sub } from './sub.js';

/** Softmax along one axis. */
export function softmax(g: GraphBuilder, x: Value, axis = -1): Value {
  const ax = normalizeAxis(axis, x.shape.length);
  // dx = y * (dy - sum(dy * y))
  return g.node('Softmax', [x], [{ dtype: x.dtype, shape: x.shape }], { axis: attr.int(ax) }, (gg, { node, dOutputs: [dy] }) => {
    const [y] = node.outputs;
    return [mul(gg, y, sub(gg, dy!, reduceSum(gg, mul(gg, dy!, y), [ax], true)))];
  })[0];
}
