import type { GraphBuilder, GradRule, Value } from '../builder.js';
import { attr } from '../builder.js';
import { add } from './add.js';
import { sumToShape } from './broadcast.js';
import { mul } from './mul.js';
import { pow } from './pow.js';
import { reduceMean } from './reduce-mean.js';
import { sub } from './sub.js';

/**
 * RMSNorm over the last axis: y = x·r·weight with r = (mean(x²) + eps)^−½.
 * One composite rule differentiates it: with n = x·r and g = dy·weight,
 * dx = r·(g − n·mean(g·n)), d weight = Σ dy·n. The forward keeps r for it, so the backward does
 * not recompute it: in float32 the op is onnxruntime's SimplifiedLayerNormalization (the kernel
 * onnxruntime fuses the plain ops into anyway, so the forward is unchanged), whose second output
 * is r; float64 (gradient checks; that kernel is float32-only) runs the same arithmetic as plain ops.
 */
export function rmsNorm(g: GraphBuilder, x: Value, weight: Value, eps: number): Value {
  const dim = x.shape[x.shape.length - 1];
  if (weight.shape.length !== 1 || weight.shape[0] !== dim || weight.dtype !== x.dtype) {
    throw new Error(`rmsNorm: weight ${weight.name} [${weight.shape.join(',')}] ${weight.dtype} must be [${dim}] ${x.dtype} for ${x.name}`);
  }
  // r: the float32 op's second output, or the float64 composite's own value
  const rule =
    (composite?: Value): GradRule =>
    (gg, { node, dOutputs: [dy], needs }) => {
      const r = composite ?? node.outputs[1];
      const n = mul(gg, x, r);
      const gw = mul(gg, dy!, weight);
      return [
        needs[0] ? mul(gg, r, sub(gg, gw, mul(gg, n, reduceMean(gg, mul(gg, gw, n), [-1], true)))) : undefined,
        needs[1] ? sumToShape(gg, mul(gg, dy!, n), weight.shape) : undefined,
      ];
    };
  if (x.dtype === 'float32') {
    return g.node(
      'SimplifiedLayerNormalization',
      [x, weight],
      [
        { dtype: x.dtype, shape: x.shape },
        { dtype: x.dtype, shape: [...x.shape.slice(0, -1), 1] },
      ],
      { axis: attr.int(-1), epsilon: attr.float(eps), stash_type: attr.int(1) },
      rule(),
    )[0];
  }
  // the inner nodes' own rules are never reached: the last node's rule covers the composite
  const r = pow(g, add(g, reduceMean(g, mul(g, x, x), [-1], true), g.scalar(x.dtype, eps)), -0.5);
  return g.node('Mul', [mul(g, x, r), weight], [{ dtype: x.dtype, shape: x.shape }], {}, rule(r), [x, weight])[0];
}
