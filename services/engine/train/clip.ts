import type { ParameterSet } from '../prompt/vocabulary.js';

/** L2 norm of all gradients taken together, accumulated in float64 in a fixed order. */
export function globalNorm(grads: ParameterSet): number {
  let sum = 0;
  for (const g of Object.values(grads)) for (let i = 0; i < g.length; i++) sum += g[i] * g[i];
  return Math.sqrt(sum);
}

/**
 * Scales all gradients in place so that their global norm is at most `maxNorm`
 * (as torch.nn.utils.clip_grad_norm_: factor maxNorm / (norm + 1e-6), applied only when it is < 1).
 * `maxNorm` ≤ 0 disables clipping. Returns the norm before clipping.
 */
export function clipGlobalNorm(grads: ParameterSet, maxNorm: number): number {
  const norm = globalNorm(grads);
  if (maxNorm > 0 && Number.isFinite(norm)) {
    const factor = maxNorm / (norm + 1e-6);
    if (factor < 1) for (const g of Object.values(grads)) for (let i = 0; i < g.length; i++) g[i] *= factor;
  }
  return norm;
}
