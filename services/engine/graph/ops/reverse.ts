import type { GraphBuilder, Value } from '../builder.js';
import { normalizeAxis } from './broadcast.js';

/** x with the order of entries along `axis` reversed (a Slice with step −1); its own adjoint. */
export function reverse(g: GraphBuilder, x: Value, axis: number): Value {
  const ax = normalizeAxis(axis, x.shape.length);
  return g.node(
    'Slice',
    [x, g.int64s([-1]), g.int64s([Number.MIN_SAFE_INTEGER]), g.int64s([ax]), g.int64s([-1])],
    [{ dtype: x.dtype, shape: x.shape }],
    {},
    (gg, { dOutputs: [dy] }) => [reverse(gg, dy!, ax), undefined, undefined, undefined, undefined],
  )[0];
}
