import type { GraphBuilder, Value } from '../builder.js';
import { attr } from '../builder.js';
import { sumToShape } from './broadcast.js';
import { reshape } from './reshape.js';
import { type Weight, widened } from '../stored-weight.js';
import type { FloatDType } from '../dtype.js';

function gemm(g: GraphBuilder, a: Value, b: Value, transA: boolean, transB: boolean): Value {
  const [m, k] = transA ? [a.shape[1], a.shape[0]] : a.shape;
  const [kb, n] = transB ? [b.shape[1], b.shape[0]] : b.shape;
  if (k !== kb || a.dtype !== b.dtype)
    throw new Error(`gemm: cannot multiply ${a.name} [${a.shape.join(',')}] by ${b.name} [${b.shape.join(',')}]`);
  return g.node('Gemm', [a, b], [{ dtype: a.dtype, shape: [m, n] }], {
    transA: attr.int(transA ? 1 : 0),
    transB: attr.int(transB ? 1 : 0),
  })[0];
}

/**
 * y = x · Wᵀ for W [out, in] stored row-major as in the model (y = W x per row of x), over x [..., in].
 * Emitted as Gemm with transB on the rows of x, so a frozen W is used in place (no transposed copy)
 * and its backward dx = dy · W is a plain Gemm on the same weight (a stored weight is widened
 * again there). An optional bias [out] is Gemm's C input.
 */
export function linear(g: GraphBuilder, x: Value, w: Weight, bias?: Value): Value {
  const inDim = x.shape[x.shape.length - 1];
  const [outDim, wIn] = w.shape;
  if (w.shape.length !== 2 || wIn !== inDim) {
    throw new Error(`linear: weight ${w.name} [${w.shape.join(',')}] does not map ${x.name} [${x.shape.join(',')}] (need [out, ${inDim}])`);
  }
  if (bias && (bias.shape.length !== 1 || bias.shape[0] !== outDim))
    throw new Error(`linear: bias ${bias.name} [${bias.shape.join(',')}] must be [${outDim}]`);
  const rows = reshape(g, x, [-1, inDim]);
  const outShape = [...x.shape.slice(0, -1), outDim];
  const wide = widened(g, w, rows, x.dtype as FloatDType);
  const inputs = bias ? [rows, wide, bias] : [rows, wide];
  const [y2] = g.node(
    'Gemm',
    inputs,
    [{ dtype: x.dtype, shape: [rows.shape[0], outDim] }],
    { transB: attr.int(1) },
    (gg, { dOutputs: [dy], needs }) => [
      needs[0] ? gemm(gg, dy!, widened(gg, w, dy!, x.dtype as FloatDType), false, false) : undefined,
      needs[1] ? gemm(gg, dy!, rows, true, false) : undefined,
      needs[2] ? sumToShape(gg, dy!, [outDim]) : undefined,
    ],
  );
  return reshape(g, y2, outShape);
}
