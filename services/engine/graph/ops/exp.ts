import type { GradRule, GraphBuilder, Value } from '../builder.js';
import { unaryNode } from './broadcast.js';
import { mul } from './mul.js';

const grad: GradRule = (g, { node, dOutputs: [dy] }) => [mul(g, dy!, node.outputs[0])];

export const exp = (g: GraphBuilder, x: Value): Value => unaryNode(g, 'Exp', x, grad);
