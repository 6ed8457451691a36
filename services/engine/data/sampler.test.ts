import { describe, expect, it } from 'vitest';
import { ExampleSampler } from './sampler.js';

describe('ExampleSampler', () => {
  it('visits every example once per epoch, in a seeded order that changes per epoch', () => {
    const s = ExampleSampler.create(10, 1);
    const epoch0 = s.next(10);
    const epoch1 = s.next(10);
    expect([...epoch0].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect([...epoch1].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(epoch1).not.toEqual(epoch0);
    expect(ExampleSampler.create(10, 1).next(10)).toEqual(epoch0);
    expect(ExampleSampler.create(10, 2).next(10)).not.toEqual(epoch0);
  });

  it('resumes from a saved state to exactly the same batches, across epoch boundaries', () => {
    const a = ExampleSampler.create(7, 5);
    a.next(3);
    a.next(3);
    const saved = JSON.parse(JSON.stringify(a.state()));
    const rest = Array.from({ length: 6 }, () => a.next(3));
    const b = ExampleSampler.restore(7, saved);
    expect(Array.from({ length: 6 }, () => b.next(3))).toEqual(rest);
    expect(b.state()).toEqual(a.state());
    expect(a.state().epoch).toBeGreaterThan(1);
  });

  it('rejects impossible positions', () => {
    const s = ExampleSampler.create(3, 0).state();
    expect(() => ExampleSampler.restore(3, { ...s, index: 4 })).toThrow(/invalid sampler position/);
    expect(() => ExampleSampler.create(0, 0)).toThrow(/at least one example/);
  });
});
