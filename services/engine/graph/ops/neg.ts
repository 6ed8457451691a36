import type { GradRule, GraphBuilder, Value } from '../builder.js';
import { unaryNode } from './broadcast.js';

const grad: GradRule = (g, { dOutputs: [dy] }) => [neg(g, dy!)];

export const neg = (g: GraphBuilder, x: Value): Value => unaryNode(g, 'Neg', x, grad);
