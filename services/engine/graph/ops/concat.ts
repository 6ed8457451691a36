import type { GraphBuilder, Value } from '../builder.js';
import { attr } from '../builder.js';
import { normalizeAxis } from './broadcast.js';
import { slice } from './pad-slice.js';

/** Concatenates along `axis`; all other dims must match. */
export function concat(g: GraphBuilder, xs: readonly Value[], axis: number): Value {
  if (xs.length === 1) return xs[0];
  const ax = normalizeAxis(axis, xs[0].shape.length);
  for (const x of xs) {
    if (x.dtype !== xs[0].dtype || x.shape.length !== xs[0].shape.length || x.shape.some((d, i) => i !== ax && d !== xs[0].shape[i])) {
      throw new Error(
        `concat: ${x.name} [${x.shape.join(',')}] ${x.dtype} does not fit [${xs[0].shape.join(',')}] ${xs[0].dtype} on axis ${ax}`,
      );
    }
  }
  const offsets = xs.map((_, i) => xs.slice(0, i).reduce((n, x) => n + x.shape[ax], 0));
  const shape = xs[0].shape.map((d, i) => (i === ax ? offsets[xs.length - 1] + xs[xs.length - 1].shape[ax] : d));
  return g.node('Concat', xs, [{ dtype: xs[0].dtype, shape }], { axis: attr.int(ax) }, (gg, { dOutputs: [dy], needs }) =>
    xs.map((x, i) => (needs[i] ? slice(gg, dy!, ax, offsets[i], offsets[i] + x.shape[ax]) : undefined)),
  )[0];
}
