import type { GraphBuilder, Value } from '../builder.js';
import { add } from './add.js';
import { sumToShape } from './broadcast.js';
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
 */
export function attention(g: GraphBuilder, q: Value, k: Value, v: Value, mask: Value, softcap?: number): Value {
  // the inner nodes' own rules are never reached: the last node's rule covers the composite
  const raw = matmul(g, q, transposeLast2(g, k));
  const capped = softcap === undefined ? undefined : tanh(g, scale(g, raw, 1 / softcap));
  const probs = softmax(g, add(g, capped ? scale(g, capped, softcap!) : raw, mask));
  const shape = [...probs.shape.slice(0, -1), v.shape[v.shape.length - 1]];
  return g.node(
    'MatMul',
    [probs, v],
    [{ dtype: v.dtype, shape }],
    {},
    (gg, { node, dOutputs: [dO], needs }) => {
      const [out] = node.outputs;
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
