import type { GraphBuilder, Value } from '../builder.js';
import { add } from './add.js';
import { mul, scale } from './mul.js';
import { sub } from './sub.js';
import { tanh } from './tanh.js';

const C = Math.sqrt(2 / Math.PI);
const A = 0.044715;

/**
 * GELU, tanh approximation (PyTorch's approximate="tanh", HF's gelu_pytorch_tanh / gelu_new):
 * y = ½·x·(1 + t), t = tanh(C·(x + A·x³)), C = √(2/π), A = 0.044715.
 * One composite rule: dy/dx = ½·(1 + t) + ½·x·(1 − t²)·C·(1 + 3A·x²).
 */
export function geluTanh(g: GraphBuilder, x: Value): Value {
  const one = g.scalar(x.dtype, 1);
  const x2 = mul(g, x, x);
  // the inner nodes' own rules are never reached: the last node's rule covers the composite
  const t = tanh(g, scale(g, mul(g, x, add(g, one, scale(g, x2, A))), C));
  const half = scale(g, x, 0.5);
  return g.node(
    'Mul',
    [half, add(g, one, t)],
    [{ dtype: x.dtype, shape: x.shape }],
    {},
    (gg, { dOutputs: [dy] }) => {
      const onePlusT = add(gg, one, t);
      const dInner = scale(gg, add(gg, one, scale(gg, x2, 3 * A)), C);
      const slope = add(gg, scale(gg, onePlusT, 0.5), mul(gg, half, mul(gg, sub(gg, one, mul(gg, t, t)), dInner)));
      return [mul(gg, dy!, slope)];
    },
    [x],
  )[0];
}

/** Soft capping c·tanh(x / c) (Gemma 2 attention scores and final logits); plain ops, their own rules. */
export const softcap = (g: GraphBuilder, x: Value, cap: number): Value => scale(g, tanh(g, scale(g, x, 1 / cap)), cap);
