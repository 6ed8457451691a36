import { describe, expect, it } from 'vitest';
import { linearTicks, logTicks } from './ticks.js';

const labels = (ticks: { label: string }[]) => ticks.map((t) => t.label);

describe('ticks', () => {
  it('linear ticks are round values 1, 2 or 5 × 10^k apart, labelled with the decimals the spacing needs', () => {
    expect(labels(linearTicks(0, 1, 5))).toEqual(['0.0', '0.2', '0.4', '0.6', '0.8', '1.0']);
    expect(labels(linearTicks(1.13, 5.87, 6))).toEqual(['2', '3', '4', '5']);
    expect(labels(linearTicks(2.31, 2.38, 3))).toEqual(['2.32', '2.34', '2.36', '2.38']);
    expect(linearTicks(0.1, 0.7, 6).map((t) => t.value)).toEqual([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]);
  });

  it('step axes never get fractional ticks, and wide ones use k', () => {
    expect(labels(linearTicks(1, 3, 8, 1))).toEqual(['1', '2', '3']);
    expect(labels(linearTicks(0, 50_000, 5, 1))).toEqual(['0', '10k', '20k', '30k', '40k', '50k']);
  });

  it('log ticks: powers of ten over many decades, 1-2-5 over a few, round linear values inside one', () => {
    expect(labels(logTicks(0.004, 30, 6))).toEqual(['0.01', '0.1', '1', '10']);
    expect(labels(logTicks(0.4, 25, 6))).toEqual(['0.5', '1', '2', '5', '10', '20']);
    expect(labels(logTicks(1.05, 6.3, 6))).toEqual(['2', '3', '4', '5', '6']);
  });
});
