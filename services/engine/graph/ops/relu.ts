import type { GradRule, GraphBuilder, Value } from '../builder.js';
import { unaryNode } from './broadcast.js';
import { where } from './where.js';

// relu' = 1 where x > 0, else 0
const grad: GradRule = (g, { node, dOutputs: [dy] }) => {
  const [x] = node.inputs;
  const positive = g.node('Greater', [x, g.scalar(x.dtype, 0)], [{ dtype: 'bool', shape: x.shape }])[0];
  return [where(g, positive, dy!, g.scalar(x.dtype, 0))];
};

export const relu = (g: GraphBuilder, x: Value): Value => unaryNode(g, 'Relu', x, grad);
