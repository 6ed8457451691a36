import type { GraphBuilder, Value } from '../builder.js';
import { sameShape } from './broadcast.js';
import { numel } from '../dtype.js';

/** Reshape to a static shape; one entry may be -1 (inferred). */
export function reshape(g: GraphBuilder, x: Value, shape: readonly number[]): Value {
  const known = shape.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  const out = shape.map((d) => (d === -1 ? numel(x.shape) / known : d));
  if (numel(out) !== numel(x.shape) || !out.every(Number.isInteger)) {
    throw new Error(`reshape ${x.name}: cannot view [${x.shape.join(',')}] as [${shape.join(',')}]`);
  }
  if (sameShape(out, x.shape)) return x;
  return g.node('Reshape', [x, g.int64s(out)], [{ dtype: x.dtype, shape: out }], {}, (gg, { dOutputs: [dy] }) => [
    reshape(gg, dy!, x.shape),
    undefined,
  ])[0];
}
