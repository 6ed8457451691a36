import { describe, expect, it } from 'vitest';
import { createBatcher } from './batcher.js';

describe('createBatcher', () => {
  it('runs a lone item at once, then gathers the items that arrive meanwhile into one batch', async () => {
    const batches: number[][] = [];
    const batcher = createBatcher(
      async (items: number[]) => {
        batches.push(items);
        await new Promise((r) => setTimeout(r, 5));
        return items.map((i) => i * 10);
      },
      { maxBatch: 3, key: String },
    );
    const results = await Promise.all([1, 2, 3, 4, 5, 6].map((i) => batcher.run(i)));
    expect(results).toEqual([10, 20, 30, 40, 50, 60]);
    expect(batches).toEqual([[1], [2, 3, 4], [5, 6]]);
  });

  it('never puts two items with the same key in one batch', async () => {
    const batches: string[][] = [];
    const batcher = createBatcher(
      async (items: string[]) => {
        batches.push(items);
        return items;
      },
      { maxBatch: 10, key: (s) => s },
    );
    await Promise.all(['a', 'a', 'b', 'a'].map((s) => batcher.run(s)));
    for (const batch of batches) expect(new Set(batch).size).toBe(batch.length);
    expect(batches.flat().sort()).toEqual(['a', 'a', 'a', 'b']);
  });

  it('retries a failed batch item by item, so only the bad item fails', async () => {
    const batcher = createBatcher(
      async (items: number[]) => {
        if (items.includes(13)) throw new Error(`batch with 13: ${items.join(',')}`);
        return items;
      },
      { maxBatch: 10, key: String },
    );
    const first = batcher.run(0);
    const rest = [12, 13, 14].map((i) =>
      batcher.run(i).then(
        (v) => ({ ok: v }),
        (err: Error) => ({ err: err.message }),
      ),
    );
    await first;
    expect(await Promise.all(rest)).toEqual([{ ok: 12 }, { err: 'batch with 13: 13' }, { ok: 14 }]);
  });
});
