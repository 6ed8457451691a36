import type { GradRule, GraphBuilder, Value } from '../builder.js';
import { binaryNode, sumToShape } from './broadcast.js';

const grad: GradRule = (g, { node, dOutputs: [dy], needs }) => {
  const [a, b] = node.inputs;
  return [needs[0] ? sumToShape(g, mul(g, dy!, b), a.shape) : undefined, needs[1] ? sumToShape(g, mul(g, dy!, a), b.shape) : undefined];
};

/** a * b (elementwise) with broadcasting. */
export const mul = (g: GraphBuilder, a: Value, b: Value): Value => binaryNode(g, 'Mul', a, b, grad);

/** x * c for a plain number c. */
export const scale = (g: GraphBuilder, x: Value, c: number): Value => mul(g, x, g.scalar(x.dtype, c));
