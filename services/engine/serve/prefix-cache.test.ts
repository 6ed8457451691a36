import { describe, expect, it } from 'vitest';
import { PrefixCache } from './prefix-cache.js';
import type { SequenceKv } from './slot-cache.js';

const kv = (values: number): SequenceKv => ({ length: 1, keys: [new Float32Array(values)], values: [new Float32Array(values)] });

describe('PrefixCache', () => {
  it('computes concurrent misses of one id once, and keeps entries least recently used first out within the budget', async () => {
    const cache = new PrefixCache(2 * 8 * 4); // two entries of 2·4 floats
    let computed = 0;
    const compute = (n: number) => async (): Promise<SequenceKv> => {
      computed++;
      return kv(n);
    };
    const [x, y] = await Promise.all([cache.get('a', compute(4)), cache.get('a', compute(4))]);
    expect(x).toBe(y);
    expect(computed).toBe(1);
    await cache.get('b', compute(4));
    await cache.get('a', compute(4)); // a is now the most recently used
    await cache.get('c', compute(4)); // evicts b
    expect(cache.bytes).toBe(64);
    await cache.get('a', compute(4));
    await cache.get('b', compute(4));
    expect(computed).toBe(4);
    expect({ hits: cache.hits, misses: cache.misses }).toEqual({ hits: 2, misses: 5 });
    // larger than the budget: computed and used, not kept
    expect((await cache.get('huge', compute(100))).keys[0].length).toBe(100);
    expect(cache.bytes).toBe(64);
  });

  it('a failed computation is not cached and the next request tries again', async () => {
    const cache = new PrefixCache(1024);
    await expect(cache.get('a', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect((await cache.get('a', async () => kv(2))).length).toBe(1);
  });
});
