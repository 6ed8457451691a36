import type { GraphBuilder, Value } from '../builder.js';
import { orderedAfter } from '../ordering.js';
import { add } from './add.js';
import { mul } from './mul.js';
import { sigmoid } from './sigmoid.js';
import { sub } from './sub.js';

/**
 * SwiGLU's gated product silu(gate) · up, silu(x) = x·sigmoid(x), for gate and up of one shape.
 * One composite rule differentiates it: with s = sigmoid(gate), d up = dy·silu and
 * d gate = dy·up·(s + silu − silu·s). The rule recomputes s and silu from gate once dy exists, so
 * only gate and up live from the forward to the backward, not the [tokens, hidden] silu as well
 * (ordered after dy: common-subexpression elimination would otherwise merge them back).
 */
export function swiglu(g: GraphBuilder, gate: Value, up: Value): Value {
  if (gate.shape.join() !== up.shape.join() || gate.dtype !== up.dtype) {
    throw new Error(`swiglu: gate ${gate.name} [${gate.shape.join(',')}] and up ${up.name} [${up.shape.join(',')}] must match`);
  }
  // the inner nodes' own rules are never reached: the last node's rule covers the composite
  const silu = mul(g, gate, sigmoid(g, gate));
  const [y] = g.node(
    'Mul',
    [silu, up],
    [{ dtype: up.dtype, shape: up.shape }],
    {},
    (gg, { dOutputs: [dy], needs }) => {
      const late = orderedAfter(gg, gate, dy!);
      const s = sigmoid(gg, late);
      const siluAgain = mul(gg, late, s);
      const dSilu = mul(gg, dy!, up);
      return [
        needs[0] ? mul(gg, dSilu, sub(gg, add(gg, s, siluAgain), mul(gg, siluAgain, s))) : undefined,
        needs[1] ? mul(gg, dy!, siluAgain) : undefined,
      ];
    },
    [gate, up],
  );
  return y;
}
