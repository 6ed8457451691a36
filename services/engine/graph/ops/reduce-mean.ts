import type { GraphBuilder, Value } from '../builder.js';
import { attr } from '../builder.js';
import { scale } from './mul.js';
import { normalizeAxes, reducedShape, unreduce } from './reduce-sum.js';

/** ReduceMean over `axes` (negative allowed). */
export function reduceMean(g: GraphBuilder, x: Value, axes: readonly number[], keepdims = false): Value {
  const ax = normalizeAxes(axes, x.shape.length);
  const count = ax.reduce((n, a) => n * x.shape[a], 1);
  return g.node(
    'ReduceMean',
    [x, g.int64s(ax)],
    [{ dtype: x.dtype, shape: reducedShape(x.shape, ax, keepdims) }],
    { keepdims: attr.int(keepdims ? 1 : 0) },
    (gg, { dOutputs: [dy] }) => [unreduce(gg, scale(gg, dy!, 1 / count), x.shape, ax), undefined],
  )[0];
}
