/**
 * Picks the next token from logits: greedy (temperature 0: the first maximum, as generateText),
 * or sampling at a temperature from the request's seeded generator, restricted to the top_k most
 * likely tokens and then to the smallest set whose probability reaches top_p. Without top_k and
 * top_p: weights exp((logit − max) / temperature) and one uniform draw, as `ptune generate` has
 * always drawn, so its seeded outputs did not change when it moved onto the engine.
 */
import type { Rng } from '../model/rng.js';

export interface SamplerSettings {
  temperature: number;
  topP: number;
  topK: number;
}

export function argmax(xs: Float32Array): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i] > xs[best]) best = i;
  return best;
}

export function sampleToken(logits: Float32Array, s: SamplerSettings, rng: Rng): number {
  if (s.temperature === 0) return argmax(logits);
  const max = logits[argmax(logits)];
  let candidates = Array.from(logits, (_, i) => i);
  const filtered = (s.topK > 0 && s.topK < logits.length) || s.topP < 1;
  if (filtered) {
    candidates.sort((a, b) => logits[b] - logits[a] || a - b);
    if (s.topK > 0) candidates = candidates.slice(0, s.topK);
  }
  let weights = candidates.map((i) => Math.exp((logits[i] - max) / s.temperature));
  if (s.topP < 1) {
    const total = weights.reduce((a, b) => a + b, 0);
    let kept = 0;
    let mass = 0;
    while (kept < weights.length && mass < s.topP * total) mass += weights[kept++];
    candidates = candidates.slice(0, kept);
    weights = weights.slice(0, kept);
  }
  let u = rng.nextFloat() * weights.reduce((a, b) => a + b, 0);
  for (let i = 0; i < weights.length; i++) {
    u -= weights[i];
    if (u < 0) return candidates[i];
  }
  return candidates[candidates.length - 1];
}
