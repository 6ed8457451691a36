import { describe, expect, it } from 'vitest';
import { Rng } from '../model/rng.js';
import { DataOrder } from './data-order.js';

describe('DataOrder', () => {
  it('visits every example once per epoch and fills batches across epochs', () => {
    const order = DataOrder.start(5, Rng.fromSeed(1));
    const taken = [...order.next(3), ...order.next(3), ...order.next(3), ...order.next(1)];
    expect([...taken.slice(0, 5)].sort()).toEqual([0, 1, 2, 3, 4]);
    expect([...taken.slice(5, 10)].sort()).toEqual([0, 1, 2, 3, 4]);
    expect(order.current.epoch).toBe(1);
    expect(order.current.offset).toBe(5);
  });

  it('resumes from a saved position with the same sequence', () => {
    const straight = DataOrder.start(7, Rng.fromSeed(3));
    const expected = Array.from({ length: 9 }, () => straight.next(4));

    const first = DataOrder.start(7, Rng.fromSeed(3));
    const head = Array.from({ length: 4 }, () => first.next(4));
    const saved = JSON.parse(JSON.stringify(first.current));
    const resumed = DataOrder.resume(7, saved);
    const tail = Array.from({ length: 5 }, () => resumed.next(4));
    expect([...head, ...tail]).toEqual(expected);
  });

  it('shuffles differently per seed and per epoch', () => {
    const a = DataOrder.start(20, Rng.fromSeed(0)).next(40);
    const b = DataOrder.start(20, Rng.fromSeed(1)).next(40);
    expect(a).not.toEqual(b);
    expect(a.slice(0, 20)).not.toEqual(a.slice(20));
  });

  it('rejects an empty dataset and a position past its end', () => {
    expect(() => DataOrder.start(0, Rng.fromSeed(0))).toThrow(/at least one example/);
    const pos = DataOrder.start(3, Rng.fromSeed(0)).current;
    expect(() => DataOrder.resume(2, { ...pos, offset: 3 })).toThrow(/does not fit/);
  });
});
