import { describe, expect, it } from 'vitest';
import { Rng } from './rng.js';

describe('Rng', () => {
  it('is deterministic per seed and differs across seeds', () => {
    const a = Rng.fromSeed(42);
    const b = Rng.fromSeed(42);
    const c = Rng.fromSeed(43);
    const xs = Array.from({ length: 8 }, () => a.nextUint32());
    expect(Array.from({ length: 8 }, () => b.nextUint32())).toEqual(xs);
    expect(Array.from({ length: 8 }, () => c.nextUint32())).not.toEqual(xs);
    expect(Rng.fromSeed(2 ** 40).nextUint32()).not.toBe(Rng.fromSeed(0).nextUint32());
  });

  it('restores bit-exactly from a JSON round trip of its state', () => {
    const a = Rng.fromSeed(7);
    for (let i = 0; i < 13; i++) a.nextFloat();
    const saved = JSON.parse(JSON.stringify(a.state()));
    const b = Rng.fromState(saved);
    const na = new Float32Array(9);
    const nb = new Float32Array(9);
    a.fillNormal(na);
    b.fillNormal(nb);
    expect(nb).toEqual(na);
    expect(b.nextInt(1000)).toBe(a.nextInt(1000));
  });

  it('rejects malformed states', () => {
    expect(() => Rng.fromState({ algorithm: 'xoshiro128**', s: [0, 0, 0, 0] })).toThrow(/invalid RNG state/);
    expect(() => Rng.fromState({ algorithm: 'xoshiro128**', s: [1, 2, 3] as unknown as [number, number, number, number] })).toThrow();
  });

  it('produces plausible uniform and normal statistics', () => {
    const r = Rng.fromSeed(1);
    const n = 200_000;
    let sum = 0;
    const counts = new Array(10).fill(0);
    for (let i = 0; i < n; i++) {
      const x = r.nextFloat();
      expect(x >= 0 && x < 1).toBe(true);
      sum += x;
      counts[r.nextInt(10)]++;
    }
    expect(sum / n).toBeCloseTo(0.5, 2);
    for (const k of counts) expect(Math.abs(k - n / 10)).toBeLessThan(n / 100);
    const g = r.fillNormal(new Float32Array(n), 2, 1);
    const mean = g.reduce((a, b) => a + b, 0) / n;
    const variance = g.reduce((a, b) => a + (b - mean) ** 2, 0) / n;
    expect(mean).toBeCloseTo(1, 1);
    expect(Math.sqrt(variance)).toBeCloseTo(2, 1);
  });

  it('shuffles into a permutation', () => {
    const xs = Rng.fromSeed(3).shuffle(Array.from({ length: 50 }, (_, i) => i));
    expect([...xs].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(xs).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
  });
});
