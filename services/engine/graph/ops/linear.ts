import type { GraphBuilder, Value } from '../builder.js';
import { attr } from '../builder.js';
import { sumToShape } from './broadcast.js';
import { reshape } from './reshape.js';
import { isStored, type StoredWeight, type Weight, widened, widenedRows } from '../stored-weight.js';
import type { FloatDType } from '../dtype.js';
import { add } from './add.js';
import { slice } from './pad-slice.js';

/** A stored weight whose widened copy would be larger than this is multiplied a block of rows at a time. */
export const WIDEN_BLOCK_BYTES = 64 * 2 ** 20;

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
 * again there). An optional bias [out] is Gemm's C input. A stored weight whose widened copy
 * would exceed `blockBytes` is widened and multiplied a block of rows at a time (`blockedLinear`).
 */
export function linear(g: GraphBuilder, x: Value, w: Weight, bias?: Value, blockBytes = WIDEN_BLOCK_BYTES): Value {
  const inDim = x.shape[x.shape.length - 1];
  const [outDim, wIn] = w.shape;
  if (w.shape.length !== 2 || wIn !== inDim) {
    throw new Error(`linear: weight ${w.name} [${w.shape.join(',')}] does not map ${x.name} [${x.shape.join(',')}] (need [out, ${inDim}])`);
  }
  if (bias && (bias.shape.length !== 1 || bias.shape[0] !== outDim))
    throw new Error(`linear: bias ${bias.name} [${bias.shape.join(',')}] must be [${outDim}]`);
  const rows = reshape(g, x, [-1, inDim]);
  const outShape = [...x.shape.slice(0, -1), outDim];
  const dtype = x.dtype as FloatDType;
  const blockRows = Math.max(1, Math.floor(blockBytes / (inDim * (dtype === 'float64' ? 8 : 4))));
  if (isStored(w) && outDim > blockRows) return reshape(g, blockedLinear(g, rows, w, bias, blockRows, dtype), outShape);
  const wide = widened(g, w, rows, dtype);
  const inputs = bias ? [rows, wide, bias] : [rows, wide];
  const [y2] = g.node(
    'Gemm',
    inputs,
    [{ dtype: x.dtype, shape: [rows.shape[0], outDim] }],
    { transB: attr.int(1) },
    (gg, { dOutputs: [dy], needs }) => [
      needs[0] ? gemm(gg, dy!, widened(gg, w, dy!, dtype), false, false) : undefined,
      needs[1] ? gemm(gg, dy!, rows, true, false) : undefined,
      needs[2] ? sumToShape(gg, dy!, [outDim]) : undefined,
    ],
  );
  return reshape(g, y2, outShape);
}

/**
 * `linear` for a large stored weight (a big vocabulary's classifier): its rows are widened
 * `blockRows` at a time, each block only once the previous block's product exists (forward) or the
 * previous partial sum of dx (backward), so one block's float32 copy is alive at a time instead of
 * the whole matrix (250 MB for a 1.1B model's classifier). The forward's outputs are the same
 * products; the backward sums dx over the blocks, so it may differ from one Gemm in the last bits.
 */
function blockedLinear(
  g: GraphBuilder,
  rows: Value,
  w: StoredWeight,
  bias: Value | undefined,
  blockRows: number,
  dtype: FloatDType,
): Value {
  const outDim = w.shape[0];
  const blocks: [number, number][] = [];
  for (let from = 0; from < outDim; from += blockRows) blocks.push([from, Math.min(outDim, from + blockRows)]);
  let after = rows;
  const products = blocks.map(([from, to]) => {
    const wide = widenedRows(g, w, from, to, after, dtype);
    const inputs = bias ? [rows, wide, slice(g, bias, 0, from, to)] : [rows, wide];
    after = g.node('Gemm', inputs, [{ dtype, shape: [rows.shape[0], to - from] }], { transB: attr.int(1) })[0];
    return after;
  });
  // the inner Gemms' rules are never reached: the Concat's rule covers the composite
  return g.node(
    'Concat',
    products,
    [{ dtype, shape: [rows.shape[0], outDim] }],
    { axis: attr.int(1) },
    (gg, { dOutputs: [dy], needs }) => {
      let dx: Value | undefined;
      if (needs[0]) {
        for (const [from, to] of blocks) {
          const part = gemm(gg, slice(gg, dy!, 1, from, to), widenedRows(gg, w, from, to, dx ?? dy!, dtype), false, false);
          dx = dx ? add(gg, dx, part) : part;
        }
      }
      return [dx, needs[1] ? sumToShape(gg, dy!, [outDim]) : undefined];
    },
    bias ? [rows, bias] : [rows],
  )[0];
}
