import type { GraphBuilder, Value } from '../builder.js';
import { attr } from '../builder.js';
import { normalizeAxis } from './broadcast.js';
import { expand } from './expand.js';
import { reshape } from './reshape.js';

/** Output shape of a reduction over normalized `axes`. */
export const reducedShape = (shape: readonly number[], axes: readonly number[], keepdims: boolean): number[] =>
  keepdims ? shape.map((d, i) => (axes.includes(i) ? 1 : d)) : shape.filter((_, i) => !axes.includes(i));

export const normalizeAxes = (axes: readonly number[], rank: number): number[] =>
  axes.map((a) => normalizeAxis(a, rank)).sort((a, b) => a - b);

/** Spreads a reduction's gradient back over the reduced axes (the adjoint of a sum). */
export function unreduce(g: GraphBuilder, dy: Value, inputShape: readonly number[], axes: readonly number[]): Value {
  return expand(g, reshape(g, dy, reducedShape(inputShape, axes, true)), inputShape);
}

/** ReduceSum over `axes` (negative allowed). */
export function reduceSum(g: GraphBuilder, x: Value, axes: readonly number[], keepdims = false): Value {
  const ax = normalizeAxes(axes, x.shape.length);
  return g.node(
    'ReduceSum',
    [x, g.int64s(ax)],
    [{ dtype: x.dtype, shape: reducedShape(x.shape, ax, keepdims) }],
    { keepdims: attr.int(keepdims ? 1 : 0) },
    (gg, { dOutputs: [dy] }) => [unreduce(gg, dy!, x.shape, ax), undefined],
  )[0];
}
