import type { GraphBuilder, Value } from '../builder.js';
import { add } from './add.js';
import { sumToShape } from './broadcast.js';
import { div } from './div.js';
import { mul } from './mul.js';
import { pow } from './pow.js';
import { reduceMean } from './reduce-mean.js';
import { sqrt } from './sqrt.js';
import { sub } from './sub.js';

/**
 * RMSNorm over the last axis: y = x / sqrt(mean(x²) + eps) · weight.
 * One composite rule differentiates it: with r = (mean(x²) + eps)^−½, n = x·r and g = dy·weight,
 * dx = r·(g − n·mean(g·n)). The rule recomputes r from x instead of reading the forward's
 * intermediates, so nothing but the output leaves the forward chain and onnxruntime can fuse
 * it into one SimplifiedLayerNormalization kernel (float32).
 */
export function rmsNorm(g: GraphBuilder, x: Value, weight: Value, eps: number): Value {
  const epsilon = g.scalar(x.dtype, eps);
  // the inner nodes' own rules are never reached: the last node's rule covers the composite
  const normed = div(g, x, sqrt(g, add(g, reduceMean(g, pow(g, x, 2), [-1], true), epsilon)));
  const [y] = g.node(
    'Mul',
    [normed, weight],
    [{ dtype: x.dtype, shape: normed.shape }],
    {},
    (gg, { dOutputs: [dy], needs }) => {
      // Mul(x, x) and Pow(−½), unlike the forward's Pow(2) and Sqrt, so no common-subexpression pass merges them back
      const r = pow(gg, add(gg, reduceMean(gg, mul(gg, x, x), [-1], true), epsilon), -0.5);
      const n = mul(gg, x, r);
      const gw = mul(gg, dy!, weight);
      return [
        needs[0] ? mul(gg, r, sub(gg, gw, mul(gg, n, reduceMean(gg, mul(gg, gw, n), [-1], true)))) : undefined,
        needs[1] ? sumToShape(gg, mul(gg, dy!, n), weight.shape) : undefined,
      ];
    },
    [x, weight],
  );
  return y;
}
