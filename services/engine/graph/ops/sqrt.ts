import type { GradRule, GraphBuilder, Value } from '../builder.js';
import { unaryNode } from './broadcast.js';
import { div } from './div.js';
import { scale } from './mul.js';

// d sqrt(x) = 0.5 / sqrt(x)
const grad: GradRule = (g, { node, dOutputs: [dy] }) => [div(g, scale(g, dy!, 0.5), node.outputs[0])];

export const sqrt = (g: GraphBuilder, x: Value): Value => unaryNode(g, 'Sqrt', x, grad);
