import { describe, expect, it } from 'vitest';
import { Rng } from '../model/rng.js';
import { sampleToken, type SamplerSettings } from './sampler.js';

/** The filters by the book: sort the whole vocabulary (when a filter applies), keep the top k, then the top-p prefix, one draw. */
function naive(logits: Float32Array, s: SamplerSettings, rng: Rng): number {
  const max = Math.max(...logits);
  let order = Array.from(logits, (_, i) => i);
  if ((s.topK > 0 && s.topK < logits.length) || s.topP < 1) order.sort((a, b) => logits[b] - logits[a] || a - b);
  if (s.topK > 0) order = order.slice(0, s.topK);
  let weights = order.map((i) => Math.exp((logits[i] - max) / s.temperature));
  if (s.topP < 1) {
    const total = weights.reduce((a, b) => a + b, 0);
    let kept = 0;
    let mass = 0;
    while (kept < weights.length && mass < s.topP * total) mass += weights[kept++];
    order = order.slice(0, kept);
    weights = weights.slice(0, kept);
  }
  let u = rng.nextFloat() * weights.reduce((a, b) => a + b, 0);
  for (let i = 0; i < weights.length; i++) {
    u -= weights[i];
    if (u < 0) return order[i];
  }
  return order[order.length - 1];
}

describe('sampleToken', () => {
  it('draws what sorting the whole vocabulary would, for top_k, top_p, both and neither', () => {
    const gen = Rng.fromSeed(1);
    for (let trial = 0; trial < 60; trial++) {
      const spread = [0.5, 3, 12][trial % 3];
      const logits = Float32Array.from({ length: 2000 }, () => spread * (2 * gen.nextFloat() - 1));
      logits[7] = logits[8]; // a tie
      const s: SamplerSettings = {
        temperature: [0.3, 1, 2][trial % 3],
        topK: [0, 1, 40, 5000][trial % 4],
        topP: [1, 0.9, 0.5, 0.999][(trial >> 2) % 4],
      };
      const a = Rng.fromSeed(trial);
      const b = Rng.fromSeed(trial);
      for (let draw = 0; draw < 5; draw++) expect(sampleToken(logits, s, a)).toBe(naive(logits, s, b));
    }
  });

  it('greedy is the first maximum; top_k 1 is greedy at any temperature', () => {
    const logits = Float32Array.from([0.1, 2, 2, -1]);
    expect(sampleToken(logits, { temperature: 0, topK: 0, topP: 1 }, Rng.fromSeed(0))).toBe(1);
    for (let seed = 0; seed < 10; seed++) expect(sampleToken(logits, { temperature: 5, topK: 1, topP: 1 }, Rng.fromSeed(seed))).toBe(1);
  });
});
