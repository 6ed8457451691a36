import type { GraphBuilder, Value } from '../builder.js';
import { normalizeAxis } from './broadcast.js';
import { slice } from './slice.js';

/** Zero-pads x with `before` and `after` entries along `axis`. */
export function pad(g: GraphBuilder, x: Value, axis: number, before: number, after: number): Value {
  const ax = normalizeAxis(axis, x.shape.length);
  if (before === 0 && after === 0) return x;
  const shape = x.shape.map((d, i) => (i === ax ? d + before + after : d));
  return g.node(
    'Pad',
    [x, g.int64s([before, after]), g.scalar(x.dtype, 0), g.int64s([ax])],
    [{ dtype: x.dtype, shape }],
    {},
    (gg, { dOutputs: [dy] }) => [slice(gg, dy!, ax, before, before + x.shape[ax]), undefined, undefined, undefined],
  )[0];
}
