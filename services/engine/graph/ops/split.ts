import type { GraphBuilder, Value } from '../builder.js';
import { attr } from '../builder.js';
import { normalizeAxis } from './broadcast.js';
import { concat } from './concat.js';
import { zeros } from './expand.js';

/** Splits x along `axis` into pieces of the given sizes. */
export function split(g: GraphBuilder, x: Value, axis: number, sizes: readonly number[]): Value[] {
  const ax = normalizeAxis(axis, x.shape.length);
  if (sizes.reduce((a, b) => a + b, 0) !== x.shape[ax]) {
    throw new Error(`split ${x.name}: sizes [${sizes.join(',')}] do not add up to axis ${ax} of size ${x.shape[ax]}`);
  }
  const outs = sizes.map((s) => ({ dtype: x.dtype, shape: x.shape.map((d, i) => (i === ax ? s : d)) }));
  return g.node('Split', [x, g.int64s(sizes)], outs, { axis: attr.int(ax) }, (gg, { node, dOutputs }) => [
    concat(
      gg,
      node.outputs.map((o, i) => dOutputs[i] ?? zeros(gg, o.dtype, o.shape)),
      ax,
    ),
    undefined,
  ]);
}
