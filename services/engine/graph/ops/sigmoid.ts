import type { GradRule, GraphBuilder, Value } from '../builder.js';
import { unaryNode } from './broadcast.js';
import { mul } from './mul.js';
import { sub } from './sub.js';

// sigmoid' = y * (1 - y)
const grad: GradRule = (g, { node, dOutputs: [dy] }) => {
  const [y] = node.outputs;
  return [mul(g, dy!, mul(g, y, sub(g, g.scalar(y.dtype, 1), y)))];
};

export const sigmoid = (g: GraphBuilder, x: Value): Value => unaryNode(g, 'Sigmoid', x, grad);
