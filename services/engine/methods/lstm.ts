/**
 * torch.nn.LSTM (batch_first, bidirectional, h0 = c0 = 0, no dropout) unrolled over a short
 * sequence in the graph, from existing ops: per step, with gates in PyTorch's order i, f, g, o,
 *   i = σ(·), f = σ(·), g = tanh(·), o = σ(·) of x_t·W_ihᵀ + b_ih + h_{t−1}·W_hhᵀ + b_hh,
 *   c_t = f ∘ c_{t−1} + i ∘ g,   h_t = o ∘ tanh(c_t).
 * The reverse direction reads the sequence from the end; a layer's output at t is
 * [h_t forward, h_t reverse], which is the next layer's input. The input projections of all
 * steps are one matmul; only the recurrent h·W_hhᵀ is per step.
 */
import type { GraphBuilder, Value } from '../graph/builder.js';
import { add, concat, linear, mul, sigmoid, slice, split, tanh } from '../graph/ops/index.js';
import type { Rng } from '../model/rng.js';
import { type ParameterShape, uniform } from './parameters.js';

const suffix = (layer: number, reverse: boolean): string => `l${layer}${reverse ? '_reverse' : ''}`;

/** PyTorch's parameter names and shapes for `prefix` = the module name (e.g. `prompt_encoder.lstm_head`). */
export function lstmParameters(prefix: string, inputSize: number, hidden: number, layers: number): ParameterShape[] {
  const out: ParameterShape[] = [];
  for (let l = 0; l < layers; l++) {
    const inDim = l === 0 ? inputSize : 2 * hidden;
    for (const reverse of [false, true]) {
      const s = suffix(l, reverse);
      out.push(
        { name: `${prefix}.weight_ih_${s}`, shape: [4 * hidden, inDim] },
        { name: `${prefix}.weight_hh_${s}`, shape: [4 * hidden, hidden] },
        { name: `${prefix}.bias_ih_${s}`, shape: [4 * hidden] },
        { name: `${prefix}.bias_hh_${s}`, shape: [4 * hidden] },
      );
    }
  }
  return out;
}

/** PyTorch's LSTM init: every weight and bias from U(±1/√hidden), in parameter order. */
export function initLstm(rng: Rng, params: readonly ParameterShape[], hidden: number): Float32Array[] {
  return params.map((p) =>
    uniform(
      rng,
      p.shape.reduce((a, b) => a * b, 1),
      1 / Math.sqrt(hidden),
    ),
  );
}

function direction(g: GraphBuilder, x: Value, [wih, whh, bih, bhh]: Value[], hidden: number, reverse: boolean): Value {
  const steps = x.shape[0];
  const projected = add(g, add(g, linear(g, x, wih), bih), bhh); // [steps, 4h]
  const outputs: Value[] = new Array<Value>(steps);
  let h: Value | undefined;
  let c: Value | undefined;
  for (let s = 0; s < steps; s++) {
    const t = reverse ? steps - 1 - s : s;
    let gates = slice(g, projected, 0, t, t + 1); // [1, 4h]
    if (h) gates = add(g, gates, linear(g, h, whh));
    const [i, f, cell, o] = split(g, gates, -1, [hidden, hidden, hidden, hidden]);
    const input = mul(g, sigmoid(g, i), tanh(g, cell));
    c = c ? add(g, mul(g, sigmoid(g, f), c), input) : input;
    h = mul(g, sigmoid(g, o), tanh(g, c));
    outputs[t] = h;
  }
  return concat(g, outputs, 0);
}

/** Output [steps, 2·hidden] of a bidirectional LSTM over x [steps, in]; `weights` in lstmParameters order. */
export function bidirectionalLstm(g: GraphBuilder, x: Value, weights: readonly Value[], hidden: number, layers: number): Value {
  let input = x;
  for (let l = 0; l < layers; l++) {
    const w = (reverse: boolean): Value[] => weights.slice((2 * l + (reverse ? 1 : 0)) * 4, (2 * l + (reverse ? 1 : 0)) * 4 + 4);
    input = concat(g, [direction(g, input, w(false), hidden, false), direction(g, input, w(true), hidden, true)], 1);
  }
  return input;
}
