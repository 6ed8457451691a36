import type { GradRule, GraphBuilder, Value } from '../builder.js';
import { unaryNode } from './broadcast.js';
import { mul } from './mul.js';
import { neg } from './neg.js';

// d(1/x) = -1/x^2 = -y*y
const grad: GradRule = (g, { node, dOutputs: [dy] }) => {
  const [y] = node.outputs;
  return [neg(g, mul(g, dy!, mul(g, y, y)))];
};

export const reciprocal = (g: GraphBuilder, x: Value): Value => unaryNode(g, 'Reciprocal', x, grad);
