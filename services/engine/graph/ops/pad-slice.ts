/**
 * Pad and Slice along one axis: each is the other's gradient (the adjoint of zero-padding is
 * cutting the padding off, and the reverse), so the pair lives in one file.
 */
import type { GraphBuilder, Value } from '../builder.js';
import { normalizeAxis } from './broadcast.js';

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

/** x[start:end] along `axis` (step 1, non-negative bounds within the axis). */
export function slice(g: GraphBuilder, x: Value, axis: number, start: number, end: number): Value {
  const ax = normalizeAxis(axis, x.shape.length);
  const dim = x.shape[ax];
  if (!(start >= 0 && start < end && end <= dim)) {
    throw new Error(`slice ${x.name}: [${start}:${end}] is not a non-empty range within axis ${ax} of size ${dim}`);
  }
  if (start === 0 && end === dim) return x;
  const shape = x.shape.map((d, i) => (i === ax ? end - start : d));
  return g.node(
    'Slice',
    [x, g.int64s([start]), g.int64s([end]), g.int64s([ax])],
    [{ dtype: x.dtype, shape }],
    {},
    (gg, { dOutputs: [dy] }) => [pad(gg, dy!, ax, start, dim - end), undefined, undefined, undefined],
  )[0];
}
