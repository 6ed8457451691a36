import type { GraphBuilder, Value } from '../builder.js';
import { add } from './add.js';
import { sumToShape } from './broadcast.js';
import { mul } from './mul.js';
import { pow } from './pow.js';
import { reduceMean } from './reduce-mean.js';
import { sub } from './sub.js';

/**
 * LayerNorm over the last axis with bias: y = n·weight + bias, n = (x − mean(x))·r,
 * r = (var(x) + eps)^−½ (biased variance, as torch.nn.LayerNorm).
 * One composite rule differentiates it: with g = dy·weight,
 * dx = r·(g − mean(g) − n·mean(g·n)), d weight = Σ dy·n, d bias = Σ dy.
 * Plain ops in both dtypes (onnxruntime fuses the float32 forward into its LayerNormalization kernel).
 */
export function layerNorm(g: GraphBuilder, x: Value, weight: Value, bias: Value, eps: number): Value {
  const dim = x.shape[x.shape.length - 1];
  for (const p of [weight, bias]) {
    if (p.shape.length !== 1 || p.shape[0] !== dim || p.dtype !== x.dtype) {
      throw new Error(`layerNorm: ${p.name} [${p.shape.join(',')}] ${p.dtype} must be [${dim}] ${x.dtype} for ${x.name}`);
    }
  }
  // the inner nodes' own rules are never reached: the last node's rule covers the composite
  const centred = sub(g, x, reduceMean(g, x, [-1], true));
  const r = pow(g, add(g, reduceMean(g, mul(g, centred, centred), [-1], true), g.scalar(x.dtype, eps)), -0.5);
  const n = mul(g, centred, r);
  return g.node(
    'Add',
    [mul(g, n, weight), bias],
    [{ dtype: x.dtype, shape: x.shape }],
    {},
    (gg, { dOutputs: [dy], needs }) => {
      const gw = mul(gg, dy!, weight);
      const inner = sub(gg, sub(gg, gw, reduceMean(gg, gw, [-1], true)), mul(gg, n, reduceMean(gg, mul(gg, gw, n), [-1], true)));
      return [
        needs[0] ? mul(gg, r, inner) : undefined,
        needs[1] ? sumToShape(gg, mul(gg, dy!, n), weight.shape) : undefined,
        needs[2] ? sumToShape(gg, dy!, bias.shape) : undefined,
      ];
    },
    [x, weight, bias],
  )[0];
}
