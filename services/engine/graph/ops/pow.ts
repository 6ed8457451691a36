import type { GradRule, GraphBuilder, Value } from '../builder.js';
import { binaryNode } from './broadcast.js';
import { mul, scale } from './mul.js';

/** x ** p for a constant number p (the exponent is not differentiated). */
export function pow(g: GraphBuilder, x: Value, p: number): Value {
  // d x^p = p * x^(p-1)
  const grad: GradRule = (gg, { dOutputs: [dy], needs }) => {
    const dx = p === 2 ? scale(gg, mul(gg, dy!, x), 2) : mul(gg, dy!, scale(gg, pow(gg, x, p - 1), p));
    return [needs[0] ? dx : undefined, undefined];
  };
  return binaryNode(g, 'Pow', x, g.scalar(x.dtype, p), grad);
}
