import type { GraphBuilder, Value } from '../builder.js';
import { add } from './add.js';
import { sumToShape } from './broadcast.js';
import { orderedAfter } from '../ordering.js';
import { matmul } from './matmul.js';
import { mul } from './mul.js';
import { reduceSum } from './reduce-sum.js';
import { softmax } from './softmax.js';
import { scale } from './mul.js';
import { sub } from './sub.js';
import { tanh } from './tanh.js';
import { transposeLast2 } from './transpose.js';

/**
 * softmax(q · kᵀ + mask) · v over the last two axes, for q [..., M, d], k [..., N, d], v [..., N, e]
 * and a constant additive mask broadcast to [..., M, N] (scaling is left to the caller).
 * With `softcap` c the scores q·kᵀ become c·tanh(q·kᵀ / c) before the mask (Gemma 2).
 * One composite rule differentiates it: with P the probabilities and O the output,
 * dS = P ∘ (dO·vᵀ − rowsum(dO ∘ O)), which needs the small rowsum over e instead of a
 * product and a sum over the large [M, N] probabilities (the FlashAttention identity);
 * with a softcap, dS is further multiplied by 1 − tanh².
 * The rule recomputes P (and the capped scores) from q and k once dO exists, as FlashAttention's
 * backward does: the [..., M, N] probabilities do not live from the forward to the backward (at
 * 256 tokens they were the largest activation a 1.1B model kept), for one more q·kᵀ and softmax,
 * a few percent of a layer's multiplies. Same float ops, so the same gradients.
 */
export function attention(g: GraphBuilder, q: Value, k: Value, v: Value, mask: Value, softcap?: number): Value {
  // the inner nodes' own rules are never reached: the last node's rule covers the composite
  const { probs } = attentionProbabilities(g, q, k, mask, softcap);
  const shape = [...probs.shape.slice(0, -1), v.shape[v.shape.length - 1]];
  return g.node(
    'MatMul',
    [probs, v],
    [{ dtype: v.dtype, shape }],
    {},
    (gg, { node, dOutputs: [dO], needs }) => {
      const [out] = node.outputs;
      // ordered after dO, or common-subexpression elimination would merge it back into the forward
      const { probs, capped } = attentionProbabilities(gg, orderedAfter(gg, q, dO!), k, mask, softcap);
      const dP = matmul(gg, dO!, transposeLast2(gg, v));
      const dCapped = mul(gg, probs, sub(gg, dP, reduceSum(gg, mul(gg, dO!, out), [-1], true)));
      const dS = capped ? mul(gg, dCapped, sub(gg, gg.scalar(capped.dtype, 1), mul(gg, capped, capped))) : dCapped;
      return [
        needs[0] ? sumToShape(gg, matmul(gg, dS, k), q.shape) : undefined,
        // dSᵀ·q and Pᵀ·dO: a Transpose feeding a MatMul operand is fused by onnxruntime (FusedMatMul transA), one on its output is not
        needs[1] ? sumToShape(gg, matmul(gg, transposeLast2(gg, dS), q), k.shape) : undefined,
        needs[2] ? sumToShape(gg, matmul(gg, transposeLast2(gg, probs), dO!), v.shape) : undefined,
        undefined,
      ];
    },
    [q, k, v, mask],
  )[0];
}

/** softmax(q·kᵀ (soft-capped) + mask), and the capped scores tanh(q·kᵀ / c) when there is a cap. */
function attentionProbabilities(g: GraphBuilder, q: Value, k: Value, mask: Value, softcap?: number): { probs: Value; capped?: Value } {
  const raw = matmul(g, q, transposeLast2(g, k));
  const capped = softcap === undefined ? undefined : tanh(g, scale(g, raw, 1 / softcap));
  return { probs: softmax(g, add(g, capped ? scale(g, capped, softcap!) : raw, mask)), capped };
}
