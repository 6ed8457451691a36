import type { GraphBuilder, GradRule, Value } from '../builder.js';
import { attr } from '../builder.js';

/** numpy-style broadcast of static shapes; throws with both shapes when incompatible. */
export function broadcastShapes(...shapes: (readonly number[])[]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    let d = 1;
    for (const s of shapes) {
      const sd = s[s.length - rank + i] ?? 1;
      if (sd !== 1 && d !== 1 && sd !== d) {
        throw new Error(`cannot broadcast shapes ${shapes.map((x) => `[${x.join(',')}]`).join(' and ')}`);
      }
      if (sd !== 1) d = sd;
    }
    out.push(d);
  }
  return out;
}

export const sameShape = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((d, i) => d === b[i]);

/**
 * Sums a broadcast gradient back to the shape of the operand it came from
 * (the adjoint of broadcasting): ReduceSum over the broadcast axes, then Reshape.
 */
export function sumToShape(g: GraphBuilder, grad: Value, shape: readonly number[]): Value {
  if (sameShape(grad.shape, shape)) return grad;
  const lead = grad.shape.length - shape.length;
  const axes: number[] = [];
  grad.shape.forEach((d, i) => {
    if (i < lead || (shape[i - lead] === 1 && d !== 1)) axes.push(i);
  });
  let v = grad;
  if (axes.length > 0) {
    const keptShape = grad.shape.map((d, i) => (axes.includes(i) ? 1 : d));
    [v] = g.node('ReduceSum', [grad, g.int64s(axes)], [{ dtype: grad.dtype, shape: keptShape }], { keepdims: attr.int(1) });
  }
  if (sameShape(v.shape, shape)) return v;
  return g.node('Reshape', [v, g.int64s(shape)], [{ dtype: grad.dtype, shape }])[0];
}

/** Emits a broadcasting elementwise binary op (Add, Sub, Mul, Div, Pow). */
export function binaryNode(g: GraphBuilder, opType: string, a: Value, b: Value, grad: GradRule): Value {
  if (a.dtype !== b.dtype) throw new Error(`${opType}: dtype mismatch ${a.name}:${a.dtype} vs ${b.name}:${b.dtype}`);
  return g.node(opType, [a, b], [{ dtype: a.dtype, shape: broadcastShapes(a.shape, b.shape) }], {}, grad)[0];
}

/** Emits a shape-preserving unary op. */
export function unaryNode(g: GraphBuilder, opType: string, x: Value, grad?: GradRule): Value {
  return g.node(opType, [x], [{ dtype: x.dtype, shape: x.shape }], {}, grad)[0];
}

export const normalizeAxis = (axis: number, rank: number): number => {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new Error(`axis ${axis} out of range for rank ${rank}`);
  return a;
};
