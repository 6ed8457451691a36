import type { GradRule, GraphBuilder, Value } from '../builder.js';
import { binaryNode, sumToShape } from './broadcast.js';
import { mul } from './mul.js';
import { neg } from './neg.js';

// d(a/b)/da = 1/b;  d(a/b)/db = -(a/b)/b
const grad: GradRule = (g, { node, dOutputs: [dy], needs }) => {
  const [a, b] = node.inputs;
  const [y] = node.outputs;
  const dyOverB = div(g, dy!, b);
  return [
    needs[0] ? sumToShape(g, dyOverB, a.shape) : undefined,
    needs[1] ? sumToShape(g, neg(g, mul(g, dyOverB, y)), b.shape) : undefined,
  ];
};

/** a / b with broadcasting. */
export const div = (g: GraphBuilder, a: Value, b: Value): Value => binaryNode(g, 'Div', a, b, grad);
