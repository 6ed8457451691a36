/**
 * Trainable encoder parameters: declared by name and shape, created as graph inputs in that
 * order, and initialized as PyTorch initializes the matching modules (so a ptune encoder starts
 * from the same distribution as PEFT's).
 */
import type { GraphBuilder, Value } from '../graph/builder.js';
import type { FloatDType } from '../graph/dtype.js';
import { add, linear } from '../graph/ops/index.js';
import type { Rng } from '../model/rng.js';

export interface ParameterShape {
  /** graph input name and checkpoint key (PEFT's state-dict name where one exists) */
  readonly name: string;
  readonly shape: readonly number[];
}

/** One graph input per parameter, in declaration order. */
export function parameterInputs(g: GraphBuilder, params: readonly ParameterShape[], dtype: FloatDType): Value[] {
  return params.map((p) => g.input(p.name, dtype, p.shape));
}

/** Weight [out, in] and bias [out] of a torch.nn.Linear called `prefix`. */
export const linearParameters = (prefix: string, inDim: number, outDim: number): ParameterShape[] => [
  { name: `${prefix}.weight`, shape: [outDim, inDim] },
  { name: `${prefix}.bias`, shape: [outDim] },
];

/** x · Wᵀ + b over the last axis of x (torch.nn.Linear). */
export const dense = (g: GraphBuilder, x: Value, weight: Value, bias: Value): Value => add(g, linear(g, x, weight), bias);

/** n draws from U(−bound, bound). */
export function uniform(rng: Rng, n: number, bound: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (2 * rng.nextFloat() - 1) * bound;
  return out;
}

/**
 * torch.nn.Linear's default init: kaiming_uniform(a=√5) on the weight, which is U(±1/√in), and
 * U(±1/√in) on the bias. Draws the weight first, then the bias.
 */
export function initLinear(rng: Rng, inDim: number, outDim: number): [Float32Array, Float32Array] {
  const bound = 1 / Math.sqrt(inDim);
  return [uniform(rng, outDim * inDim, bound), uniform(rng, outDim, bound)];
}
