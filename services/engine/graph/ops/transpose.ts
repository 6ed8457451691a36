import type { GraphBuilder, Value } from '../builder.js';
import { attr } from '../builder.js';

/** Permutes axes: output axis i is input axis perm[i]. */
export function transpose(g: GraphBuilder, x: Value, perm: readonly number[]): Value {
  if (perm.length !== x.shape.length || [...perm].sort().some((p, i) => p !== i)) {
    throw new Error(`transpose ${x.name}: perm [${perm.join(',')}] is not a permutation of rank ${x.shape.length}`);
  }
  if (perm.every((p, i) => p === i)) return x;
  const inverse = perm.map((_, i) => perm.indexOf(i));
  return g.node(
    'Transpose',
    [x],
    [{ dtype: x.dtype, shape: perm.map((p) => x.shape[p]) }],
    { perm: attr.ints(perm) },
    (gg, { dOutputs: [dy] }) => [transpose(gg, dy!, inverse)],
  )[0];
}

/** Swaps the last two axes. */
export function transposeLast2(g: GraphBuilder, x: Value): Value {
  const r = x.shape.length;
  return transpose(g, x, [...Array(r - 2).keys(), r - 1, r - 2]);
}
