import { describe, expect, it } from 'vitest';
import { learningRateAt } from './schedule.js';

describe('learningRateAt', () => {
  it('constant without warmup is flat', () => {
    const c = { schedule: 'constant' as const, lr: 0.5, warmupSteps: 0, totalSteps: 4 };
    expect([0, 1, 2, 3].map((s) => learningRateAt(s, c))).toEqual([0.5, 0.5, 0.5, 0.5]);
  });

  it('linear warms up over 2 steps then decays to 0 at totalSteps', () => {
    const c = { schedule: 'linear' as const, lr: 1, warmupSteps: 2, totalSteps: 6 };
    // warmup: 1/2, 2/2; decay over 4 steps: (6−2)/4, (6−3)/4, (6−4)/4, (6−5)/4
    expect([0, 1, 2, 3, 4, 5, 6].map((s) => learningRateAt(s, c))).toEqual([0.5, 1, 1, 0.75, 0.5, 0.25, 0]);
  });

  it('linear without warmup starts at lr', () => {
    const c = { schedule: 'linear' as const, lr: 0.2, warmupSteps: 0, totalSteps: 2 };
    expect([learningRateAt(0, c), learningRateAt(1, c)]).toEqual([0.2, 0.1]);
  });

  it('constant keeps warmup', () => {
    const c = { schedule: 'constant' as const, lr: 0.3, warmupSteps: 3, totalSteps: 10 };
    const got = [0, 1, 2, 3, 9].map((s) => learningRateAt(s, c));
    [0.1, 0.2, 0.3, 0.3, 0.3].forEach((want, i) => expect(got[i]).toBeCloseTo(want, 12));
  });
});
