import type { GraphBuilder, GraphNode, Value } from './builder.js';
import { isFloat } from './dtype.js';
import { add } from './ops/add.js';
import { orderedAfter } from './ordering.js';

/**
 * A run of forward nodes (a decoder layer) whose intermediates the backward pass does not keep:
 * when the backward reaches it, `rebuild` emits the segment's forward again from its saved
 * input, and the backward goes through those fresh nodes instead (gradient checkpointing). The
 * segment must be g.nodes[first..last], read from outside only through `output`.
 */
export interface RecomputedSegment {
  first: number;
  last: number;
  input: Value;
  output: Value;
  rebuild(g: GraphBuilder, input: Value): Value;
}

/**
 * Reverse-mode differentiation over the recorded nodes: appends the backward nodes to `g`
 * and returns d loss / d w for each w in `wrt` (a zero tensor where the loss does not depend on w).
 * Only nodes on a path from `wrt` to `loss` are differentiated, so frozen weights get no
 * gradient nodes. `loss` must be a float scalar (shape []). `recompute` lists segments whose
 * forward is recomputed in the backward (same float ops, so the same gradients).
 */
export function gradients(g: GraphBuilder, loss: Value, wrt: readonly Value[], recompute: readonly RecomputedSegment[] = []): Value[] {
  if (loss.shape.length !== 0 || !isFloat(loss.dtype)) {
    throw new Error(`gradients: loss ${loss.name} must be a float scalar, got ${loss.dtype} [${loss.shape.join(',')}]`);
  }
  const nodes = [...g.nodes]; // the forward graph; backward nodes are appended after it

  // values that depend on a trainable input
  const fromWrt = new Set(wrt.map((w) => w.name));
  markDependents(nodes, fromWrt);
  if (!fromWrt.has(loss.name))
    throw new Error(`gradients: loss ${loss.name} does not depend on any of ${wrt.map((w) => w.name).join(', ')}`);

  const grads = new Map<string, Value>([[loss.name, g.scalar(loss.dtype, 1)]]);
  const segmentEndingAt = new Map(recompute.map((s) => [s.last, s]));
  for (let k = nodes.length - 1; k >= 0; k--) {
    const segment = segmentEndingAt.get(k);
    if (!segment) {
      backpropNode(g, nodes[k], grads, fromWrt);
      continue;
    }
    const dOutput = grads.get(segment.output.name);
    if (dOutput) {
      // the segment again, computed only once its output's gradient exists, then differentiated
      const input = orderedAfter(g, segment.input, dOutput);
      const start = g.nodes.length;
      const output = segment.rebuild(g, input);
      const fresh = g.nodes.slice(start);
      if (fromWrt.has(segment.input.name)) fromWrt.add(input.name);
      markDependents(fresh, fromWrt);
      grads.set(output.name, dOutput);
      for (let j = fresh.length - 1; j >= 0; j--) backpropNode(g, fresh[j], grads, fromWrt);
      const dInput = grads.get(input.name);
      if (dInput) accumulate(g, grads, segment.input, dInput);
    }
    k = segment.first;
  }

  return wrt.map(
    (w) => grads.get(w.name) ?? g.node('Expand', [g.scalar(w.dtype, 0), g.int64s(w.shape)], [{ dtype: w.dtype, shape: w.shape }])[0],
  );
}

function markDependents(nodes: readonly GraphNode[], fromWrt: Set<string>): void {
  for (const n of nodes) {
    if (n.inputs.some((i) => fromWrt.has(i.name))) for (const o of n.outputs) if (isFloat(o.dtype)) fromWrt.add(o.name);
  }
}

function accumulate(g: GraphBuilder, grads: Map<string, Value>, v: Value, dv: Value): void {
  if (dv.dtype !== v.dtype || dv.shape.length !== v.shape.length || dv.shape.some((d, i) => d !== v.shape[i])) {
    throw new Error(`gradients: rule produced ${dv.dtype} [${dv.shape.join(',')}] for ${v.name} ${v.dtype} [${v.shape.join(',')}]`);
  }
  const prev = grads.get(v.name);
  grads.set(v.name, prev ? add(g, prev, dv) : dv);
}

/** Applies `n`'s gradient rule to the gradients of its outputs, accumulating its inputs' gradients. */
function backpropNode(g: GraphBuilder, n: GraphNode, grads: Map<string, Value>, fromWrt: ReadonlySet<string>): void {
  const dOutputs = n.outputs.map((o) => grads.get(o.name));
  if (dOutputs.every((d) => d === undefined)) return;
  const inputs = n.gradInputs ?? n.inputs;
  const needs = inputs.map((i) => fromWrt.has(i.name));
  if (!needs.some(Boolean)) return;
  if (!n.grad) throw new Error(`gradients: op ${n.opType} (output ${n.outputs[0].name}) has no gradient rule`);
  const dInputs = n.grad(g, { node: n, dOutputs, needs });
  inputs.forEach((input, i) => {
    const d = dInputs[i];
    if (needs[i] && d) accumulate(g, grads, input, d);
  });
}
