import type { GraphBuilder, Value } from './builder.js';
import { isFloat } from './dtype.js';
import { add } from './ops/add.js';

/**
 * Reverse-mode differentiation over the recorded nodes: appends the backward nodes to `g`
 * and returns d loss / d w for each w in `wrt` (a zero tensor where the loss does not depend on w).
 * Only nodes on a path from `wrt` to `loss` are differentiated, so frozen weights get no
 * gradient nodes. `loss` must be a float scalar (shape []).
 */
export function gradients(g: GraphBuilder, loss: Value, wrt: readonly Value[]): Value[] {
  if (loss.shape.length !== 0 || !isFloat(loss.dtype)) {
    throw new Error(`gradients: loss ${loss.name} must be a float scalar, got ${loss.dtype} [${loss.shape.join(',')}]`);
  }
  const nodes = [...g.nodes]; // the forward graph; backward nodes are appended after it

  // values that depend on a trainable input
  const fromWrt = new Set(wrt.map((w) => w.name));
  for (const n of nodes) {
    if (n.inputs.some((i) => fromWrt.has(i.name))) for (const o of n.outputs) if (isFloat(o.dtype)) fromWrt.add(o.name);
  }
  if (!fromWrt.has(loss.name))
    throw new Error(`gradients: loss ${loss.name} does not depend on any of ${wrt.map((w) => w.name).join(', ')}`);

  const grads = new Map<string, Value>([[loss.name, g.scalar(loss.dtype, 1)]]);
  const accumulate = (v: Value, dv: Value): void => {
    if (dv.dtype !== v.dtype || dv.shape.length !== v.shape.length || dv.shape.some((d, i) => d !== v.shape[i])) {
      throw new Error(`gradients: rule produced ${dv.dtype} [${dv.shape.join(',')}] for ${v.name} ${v.dtype} [${v.shape.join(',')}]`);
    }
    const prev = grads.get(v.name);
    grads.set(v.name, prev ? add(g, prev, dv) : dv);
  };

  for (let k = nodes.length - 1; k >= 0; k--) {
    const n = nodes[k];
    const dOutputs = n.outputs.map((o) => grads.get(o.name));
    if (dOutputs.every((d) => d === undefined)) continue;
    const inputs = n.gradInputs ?? n.inputs;
    const needs = inputs.map((i) => fromWrt.has(i.name));
    if (!needs.some(Boolean)) continue;
    if (!n.grad) throw new Error(`gradients: op ${n.opType} (output ${n.outputs[0].name}) has no gradient rule`);
    const dInputs = n.grad(g, { node: n, dOutputs, needs });
    inputs.forEach((input, i) => {
      const d = dInputs[i];
      if (needs[i] && d) accumulate(input, d);
    });
  }

  return wrt.map(
    (w) => grads.get(w.name) ?? g.node('Expand', [g.scalar(w.dtype, 0), g.int64s(w.shape)], [{ dtype: w.dtype, shape: w.shape }])[0],
  );
}
