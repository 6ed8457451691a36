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

// weight floors tried in turn when top_k / top_p filter: the few tokens above a floor are sorted
// instead of the whole vocabulary, once they are known to hold every token the filters keep
const floors = [1e-2, 1e-4, 1e-8, 1e-16, 0];

export function sampleToken(logits: Float32Array, s: SamplerSettings, rng: Rng): number {
  if (s.temperature === 0) return argmax(logits);
  const max = logits[argmax(logits)];
  const weights = new Float64Array(logits.length);
  let total = 0;
  for (let i = 0; i < logits.length; i++) total += weights[i] = Math.exp((logits[i] - max) / s.temperature);
  const filtered = (s.topK > 0 && s.topK < logits.length) || s.topP < 1;
  const candidates = filtered ? kept(logits, weights, total, s) : undefined;
  const n = candidates ? candidates.length : logits.length;
  const at = (i: number): number => (candidates ? candidates[i] : i);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += weights[at(i)];
  let u = rng.nextFloat() * sum;
  for (let i = 0; i < n; i++) {
    u -= weights[at(i)];
    if (u < 0) return at(i);
  }
  return at(n - 1);
}

/** The tokens top_k and then top_p keep, most likely first (ties: the lower id first). */
function kept(logits: Float32Array, weights: Float64Array, total: number, s: SamplerSettings): number[] {
  for (const floor of floors) {
    const above: number[] = [];
    let mass = 0;
    for (let i = 0; i < weights.length; i++) {
      if (weights[i] >= floor) {
        above.push(i);
        mass += weights[i];
      }
    }
    // every kept token is above the floor: the top k are, or (no top_k) the nucleus is
    const enough = s.topK > 0 ? above.length >= s.topK : mass >= s.topP * total;
    if (!enough && floor > 0) continue;
    above.sort((a, b) => logits[b] - logits[a] || a - b);
    const top = s.topK > 0 ? above.slice(0, s.topK) : above;
    if (s.topP >= 1) return top;
    // top_p is a share of what top_k kept, or of the whole vocabulary
    const topTotal = s.topK > 0 ? top.reduce((a, i) => a + weights[i], 0) : total;
    let count = 0;
    let acc = 0;
    while (count < top.length && acc < s.topP * topTotal) acc += weights[top[count++]];
    return top.slice(0, count);
  }
  throw new Error('unreachable: the last floor keeps every token');
}
