import { describe, expect, it } from 'vitest';
import { ResolutionCache } from './resolution-cache.js';
import type { VersionRow } from './version-rows.js';

const row = (version: number): VersionRow => ({ version }) as VersionRow;

describe('ResolutionCache', () => {
  it('is off with a zero ttl: nothing is kept', async () => {
    const cache = new ResolutionCache(0);
    await cache.load('t', 'k', async () => row(1));
    expect(cache.get('k')).toBeUndefined();
  });

  it('keeps a resolution until its ttl passes', async () => {
    let now = 0;
    const cache = new ResolutionCache(1000, 100, () => now);
    await cache.load('t', 'k', async () => row(1));
    now = 999;
    expect(cache.get('k')?.version).toBe(1);
    now = 1000;
    expect(cache.get('k')).toBeUndefined();
  });

  it("drops a task's resolutions when it changes, and does not store one that was loading meanwhile", async () => {
    const cache = new ResolutionCache(60_000);
    await cache.load('a', 'a-latest', async () => row(1));
    await cache.load('b', 'b-latest', async () => row(7));
    let finish: (value: VersionRow) => void = () => undefined;
    const loading = cache.load('a', 'a-alias', () => new Promise<VersionRow>((resolve) => (finish = resolve)));
    cache.taskChanged('a');
    finish(row(1));
    expect((await loading).version).toBe(1);
    expect(cache.get('a-alias')).toBeUndefined();
    expect(cache.get('a-latest')).toBeUndefined();
    expect(cache.get('b-latest')?.version).toBe(7);
  });

  it('holds at most maxEntries resolutions', async () => {
    const cache = new ResolutionCache(60_000, 2);
    for (const key of ['x', 'y', 'z']) await cache.load('t', key, async () => row(1));
    expect([cache.get('x'), cache.get('y'), cache.get('z')].map((r) => r !== undefined)).toEqual([false, true, true]);
  });
});
