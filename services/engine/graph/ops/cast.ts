import type { GraphBuilder, Value } from '../builder.js';
import { attr } from '../builder.js';
import { type DType, isFloat, onnxTypeCode } from '../dtype.js';

/** Converts element type; differentiable between float types only. */
export function cast(g: GraphBuilder, x: Value, to: DType): Value {
  if (x.dtype === to) return x;
  return g.node('Cast', [x], [{ dtype: to, shape: x.shape }], { to: attr.int(onnxTypeCode[to]) }, (gg, { dOutputs: [dy] }) => [
    isFloat(x.dtype) && isFloat(to) ? cast(gg, dy!, x.dtype) : undefined,
  ])[0];
}
