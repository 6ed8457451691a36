import type { GraphBuilder, Value } from '../builder.js';
import { matmul } from './matmul.js';
import { reshape } from './reshape.js';
import { transpose, transposeLast2 } from './transpose.js';
import { type Weight, widened } from '../stored-weight.js';
import type { FloatDType } from '../dtype.js';

/**
 * A projection straight into heads-first layout: for x [B, S, in] and a constant w [heads, hs, in]
 * (the (heads·hs, in) weight's rows grouped by head), y[b, h] = x[b] · w[h]ᵀ, y [B, heads, S, hs].
 * One batched MatMul instead of a Gemm and a Transpose to heads-first, which onnxruntime's
 * transpose optimizer would push through the Split of q, k and v into one Transpose per consumer.
 * Rule (w frozen): dx = dy as rows [B·S, heads·hs] · w as [heads·hs, in], one Transpose and one MatMul.
 */
export function headsLinear(g: GraphBuilder, x: Value, w: Weight): Value {
  const [B, S, inDim] = x.shape;
  const [heads, hs, wIn] = w.shape;
  const wide = widened(g, w, x, x.dtype as FloatDType);
  if (x.shape.length !== 3 || w.shape.length !== 3 || wIn !== inDim || x.dtype !== wide.dtype) {
    throw new Error(
      `headsLinear: weight ${w.name} [${w.shape.join(',')}] does not map ${x.name} [${x.shape.join(',')}] (need [heads, hs, ${inDim}])`,
    );
  }
  const out = [B, heads, S, hs];
  // the inner nodes' own rules are never reached: the last node's rule covers the composite
  const wT = transposeLast2(g, wide);
  return g.node(
    'MatMul',
    [reshape(g, x, [B, 1, S, inDim]), wT],
    [{ dtype: x.dtype, shape: out }],
    {},
    (gg, { dOutputs: [dy], needs }) => {
      if (needs[1]) throw new Error(`headsLinear: weight ${w.name} must be constant (no gradient rule for it)`);
      const rows = reshape(gg, transpose(gg, dy!, [0, 2, 1, 3]), [B * S, heads * hs]);
      return [
        reshape(gg, matmul(gg, rows, reshape(gg, widened(gg, w, dy!, x.dtype as FloatDType), [heads * hs, inDim])), x.shape),
        undefined,
      ];
    },
    [x, wide],
  )[0];
}
