import type { GradRule, GraphBuilder, Value } from '../builder.js';
import { unaryNode } from './broadcast.js';
import { mul } from './mul.js';
import { sub } from './sub.js';

// tanh' = 1 − y²
const grad: GradRule = (g, { node, dOutputs: [dy] }) => {
  const [y] = node.outputs;
  return [mul(g, dy!, sub(g, g.scalar(y.dtype, 1), mul(g, y, y)))];
};

export const tanh = (g: GraphBuilder, x: Value): Value => unaryNode(g, 'Tanh', x, grad);
