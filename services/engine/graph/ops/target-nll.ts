import type { GraphBuilder, Value } from '../builder.js';
import { attr } from '../builder.js';
import { exp } from './exp.js';
import { gatherElements } from './gather-elements.js';
import { logSoftmax } from './log-softmax.js';
import { mul } from './mul.js';
import { neg } from './neg.js';

/**
 * Negative log-likelihood of target classes: −log softmax(logits)[target] along the last axis,
 * for logits [..., V] and int64 targets [..., 1] (GatherElements indices); output [..., 1].
 * One composite rule differentiates it: d logits = softmax·dy − onehot(target)·dy, computed as
 * exp(log-probabilities)·dy with −dy scatter-added at the targets (no zero tensor, no separate
 * LogSoftmax and GatherElements backward).
 */
export function targetNll(g: GraphBuilder, logits: Value, targets: Value): Value {
  const axis = logits.shape.length - 1;
  // the inner nodes' own rules are never reached: the last node's rule covers the composite
  const logProbs = logSoftmax(g, logits, axis);
  const picked = gatherElements(g, logProbs, targets, axis);
  return g.node(
    'Neg',
    [picked],
    [{ dtype: picked.dtype, shape: picked.shape }],
    {},
    (gg, { dOutputs: [dy] }) => [
      gg.node('ScatterElements', [mul(gg, exp(gg, logProbs), dy!), targets, neg(gg, dy!)], [{ dtype: logits.dtype, shape: logits.shape }], {
        axis: attr.int(axis),
        reduction: attr.string('add'),
      })[0],
      undefined,
    ],
    [logits, targets],
  )[0];
}
