import type { GraphBuilder, Value } from '../builder.js';
import { attr } from '../builder.js';
import { normalizeAxis } from './broadcast.js';
import { exp } from './exp.js';
import { mul } from './mul.js';
import { reduceSum } from './reduce-sum.js';
import { sub } from './sub.js';

/** LogSoftmax along one axis. */
export function logSoftmax(g: GraphBuilder, x: Value, axis = -1): Value {
  const ax = normalizeAxis(axis, x.shape.length);
  // dx = dy - softmax(x) * sum(dy)
  return g.node('LogSoftmax', [x], [{ dtype: x.dtype, shape: x.shape }], { axis: attr.int(ax) }, (gg, { node, dOutputs: [dy] }) => {
    const [y] = node.outputs;
    return [sub(gg, dy!, mul(gg, exp(gg, y), reduceSum(gg, dy!, [ax], true)))];
  })[0];
}
