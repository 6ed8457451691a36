import type { GraphBuilder, Value } from '../builder.js';
import { broadcastShapes, sumToShape } from './broadcast.js';
import { reshape } from './reshape.js';
import { transposeLast2 } from './transpose.js';

/** Batched matrix product a[..., m, k] · b[..., k, n] (both rank ≥ 2, batch dims broadcast). */
export function matmul(g: GraphBuilder, a: Value, b: Value): Value {
  const ra = a.shape.length;
  const rb = b.shape.length;
  if (ra < 2 || rb < 2 || a.shape[ra - 1] !== b.shape[rb - 2] || a.dtype !== b.dtype) {
    throw new Error(`matmul: cannot multiply ${a.name} [${a.shape.join(',')}] ${a.dtype} by ${b.name} [${b.shape.join(',')}] ${b.dtype}`);
  }
  const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const shape = [...batch, a.shape[ra - 2], b.shape[rb - 1]];
  return g.node('MatMul', [a, b], [{ dtype: a.dtype, shape }], {}, (gg, { dOutputs: [dy], needs }) => {
    const da = needs[0] ? sumToShape(gg, matmul(gg, dy!, transposeLast2(gg, b)), a.shape) : undefined;
    let db: Value | undefined;
    if (needs[1] && rb === 2) {
      // a shared weight matrix: fold a's batch dims into rows, one [k, m·batch]·[m·batch, n] product
      const a2 = reshape(gg, a, [-1, a.shape[ra - 1]]);
      db = matmul(gg, transposeLast2(gg, a2), reshape(gg, dy!, [-1, shape[shape.length - 1]]));
    } else if (needs[1]) {
      db = sumToShape(gg, matmul(gg, transposeLast2(gg, a), dy!), b.shape);
    }
    return [da, db];
  })[0];
}
