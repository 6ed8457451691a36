import type { GraphBuilder, Value } from '../builder.js';
import { broadcastShapes, sameShape, sumToShape } from './broadcast.js';

/** Broadcasts x to `shape` (numpy rules, as ONNX Expand). */
export function expand(g: GraphBuilder, x: Value, shape: readonly number[]): Value {
  const out = broadcastShapes(x.shape, shape);
  if (sameShape(out, x.shape)) return x;
  return g.node('Expand', [x, g.int64s(shape)], [{ dtype: x.dtype, shape: out }], {}, (gg, { dOutputs: [dy] }) => [
    sumToShape(gg, dy!, x.shape),
    undefined,
  ])[0];
}

/** A zero tensor of the given shape, materialized at run time (no large initializer). */
export const zeros = (g: GraphBuilder, dtype: Value['dtype'], shape: readonly number[]): Value =>
  g.node('Expand', [g.scalar(dtype, 0), g.int64s(shape)], [{ dtype, shape }])[0];
