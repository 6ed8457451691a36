import type { GradRule, GraphBuilder, Value } from '../builder.js';
import { unaryNode } from './broadcast.js';
import { div } from './div.js';

const grad: GradRule = (g, { node, dOutputs: [dy] }) => [div(g, dy!, node.inputs[0])];

export const log = (g: GraphBuilder, x: Value): Value => unaryNode(g, 'Log', x, grad);
