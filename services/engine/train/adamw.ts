/**
 * AdamW (Loshchilov & Hutter) over named Float32Array parameters, with PyTorch's update order:
 * decoupled weight decay p -= lr·wd·p, then the bias-corrected Adam step.
 * Arithmetic runs in float64 per element and is stored back as float32, element by element
 * in a fixed order, so the same inputs always give the same bytes.
 */
import type { ParameterSet } from '../prompt/vocabulary.js';

export interface AdamWConfig {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

/** Everything needed to continue optimizing exactly where it stopped. */
export interface AdamWState {
  /** number of updates applied so far */
  step: number;
  m: ParameterSet;
  v: ParameterSet;
}

export const defaultAdamWConfig: AdamWConfig = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 };

export function createAdamWState(params: ParameterSet): AdamWState {
  const m: ParameterSet = {};
  const v: ParameterSet = {};
  for (const [name, p] of Object.entries(params)) {
    m[name] = new Float32Array(p.length);
    v[name] = new Float32Array(p.length);
  }
  return { step: 0, m, v };
}

/** Applies one update in place to `params` and `state`. `grads` must have the same names and sizes. */
export function adamwStep(params: ParameterSet, grads: ParameterSet, state: AdamWState, lr: number, config: AdamWConfig): void {
  const step = state.step + 1;
  const { beta1, beta2, eps, weightDecay } = config;
  const bias1 = 1 - beta1 ** step;
  const bias2Sqrt = Math.sqrt(1 - beta2 ** step);
  const stepSize = lr / bias1;
  const decay = 1 - lr * weightDecay;
  for (const [name, p] of Object.entries(params)) {
    const g = grads[name];
    const m = state.m[name];
    const v = state.v[name];
    if (!g || !m || !v || g.length !== p.length || m.length !== p.length || v.length !== p.length) {
      throw new Error(`adamw: parameter "${name}" has no gradient or optimizer state of length ${p.length}`);
    }
    for (let i = 0; i < p.length; i++) {
      const gi = g[i];
      const mi = beta1 * m[i] + (1 - beta1) * gi;
      const vi = beta2 * v[i] + (1 - beta2) * gi * gi;
      m[i] = mi;
      v[i] = vi;
      p[i] = p[i] * decay - (stepSize * mi) / (Math.sqrt(vi) / bias2Sqrt + eps);
    }
  }
  state.step = step;
}
