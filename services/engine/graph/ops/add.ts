import type { GradRule, GraphBuilder, Value } from '../builder.js';
import { binaryNode, sumToShape } from './broadcast.js';

const grad: GradRule = (g, { node, dOutputs: [dy], needs }) => {
  const [a, b] = node.inputs;
  return [needs[0] ? sumToShape(g, dy!, a.shape) : undefined, needs[1] ? sumToShape(g, dy!, b.shape) : undefined];
};

/** a + b with broadcasting. */
export const add = (g: GraphBuilder, a: Value, b: Value): Value => binaryNode(g, 'Add', a, b, grad);
