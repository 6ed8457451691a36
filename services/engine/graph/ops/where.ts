import type { GraphBuilder, Value } from '../builder.js';
import { broadcastShapes, sumToShape } from './broadcast.js';

/** cond ? x : y elementwise, with broadcasting; cond is bool. */
export function where(g: GraphBuilder, cond: Value, x: Value, y: Value): Value {
  if (cond.dtype !== 'bool' || x.dtype !== y.dtype) {
    throw new Error(`where: need bool condition and equal branch dtypes, got ${cond.dtype}, ${x.dtype}, ${y.dtype}`);
  }
  const shape = broadcastShapes(cond.shape, x.shape, y.shape);
  return g.node('Where', [cond, x, y], [{ dtype: x.dtype, shape }], {}, (gg, { dOutputs: [dy], needs }) => {
    const zero = gg.scalar(x.dtype, 0);
    return [
      undefined,
      needs[1] ? sumToShape(gg, where(gg, cond, dy!, zero), x.shape) : undefined,
      needs[2] ? sumToShape(gg, where(gg, cond, zero, dy!), y.shape) : undefined,
    ];
  })[0];
}
