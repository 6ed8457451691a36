import { describe, expect, it } from 'vitest';
import { adamwStep, createAdamWState, defaultAdamWConfig } from './adamw.js';

const config = { ...defaultAdamWConfig, weightDecay: 0.1 };

describe('adamwStep', () => {
  it('matches a two-step hand computation with weight decay', () => {
    const params = { w: new Float32Array([1]) };
    const state = createAdamWState(params);
    // step 1: p = 1·(1 − 0.1·0.1) − 0.1·ĝ/(|ĝ|+eps) with m̂ = g, v̂ = g² → 0.99 − 0.1 = 0.89
    adamwStep(params, { w: new Float32Array([0.5]) }, state, 0.1, config);
    expect(params.w[0]).toBeCloseTo(0.89, 6);
    expect(state.m.w[0]).toBeCloseTo(0.05, 7);
    expect(state.v.w[0]).toBeCloseTo(0.00025, 9);
    // step 2, g = −0.25: m = 0.045 − 0.025 = 0.02, v = 0.999·0.00025 + 0.001·0.0625 = 0.00031225,
    // m̂ = 0.02/0.19, v̂ = 0.00031225/0.001999, p = 0.89·0.99 − 0.1·m̂/√v̂ = 0.8811 − 0.0266337 = 0.8544663
    adamwStep(params, { w: new Float32Array([-0.25]) }, state, 0.1, config);
    expect(state.step).toBe(2);
    expect(state.m.w[0]).toBeCloseTo(0.02, 7);
    expect(state.v.w[0]).toBeCloseTo(0.00031225, 9);
    expect(params.w[0]).toBeCloseTo(0.8544663, 6);
  });

  it('moves each element by about lr against the sign of its gradient on the first step', () => {
    const params = { a: new Float32Array([0, 0, 0]), b: new Float32Array([2]) };
    const state = createAdamWState(params);
    adamwStep(params, { a: new Float32Array([3, -0.001, 0]), b: new Float32Array([-7]) }, state, 0.01, defaultAdamWConfig);
    expect(Array.from(params.a).map((x) => Number(x.toFixed(6)))).toEqual([-0.01, 0.01, 0]);
    expect(params.b[0]).toBeCloseTo(2.01, 6);
  });

  it('is deterministic to the byte', () => {
    const run = (): Uint8Array => {
      const params = { w: new Float32Array([0.3, -1.2, 4.5, 1e-3]) };
      const state = createAdamWState(params);
      for (let s = 0; s < 5; s++) {
        const g = new Float32Array(params.w.map((x, i) => Math.sin(x * (s + 1) + i)));
        adamwStep(params, { w: g }, state, 0.05, config);
      }
      return new Uint8Array(params.w.buffer);
    };
    expect(run()).toEqual(run());
  });

  it('names a parameter whose gradient is missing', () => {
    const params = { w: new Float32Array(2) };
    expect(() => adamwStep(params, {}, createAdamWState(params), 0.1, config)).toThrow(/"w"/);
  });
});
