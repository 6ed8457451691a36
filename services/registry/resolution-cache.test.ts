import { describe, expect, it } from 'vitest';
import { PromptChanges } from './prompt-changes.js';
import { ResolutionCache } from './resolution-cache.js';
import type { VersionRow } from './version-rows.js';

const row = (version: number): VersionRow => ({ version }) as VersionRow;

function cacheWith(maxEntries?: number): { cache: ResolutionCache; changes: PromptChanges; setLive(live: boolean): void } {
  let live = true;
  const changes = new PromptChanges(() => live);
  return { cache: new ResolutionCache(changes, maxEntries), changes, setLive: (value) => (live = value) };
}

/** A load that finishes when told to. */
function pendingLoad(): { load: () => Promise<VersionRow>; finish: (value: VersionRow) => void } {
  let finish: (value: VersionRow) => void = () => undefined;
  return { load: () => new Promise<VersionRow>((resolve) => (finish = resolve)), finish: (value) => finish(value) };
}

describe('ResolutionCache', () => {
  it('keeps a resolution until its task changes, and only that task', async () => {
    const { cache, changes } = cacheWith();
    await cache.load('ns/a', 'a-latest', async () => row(1));
    await cache.load('ns/b', 'b-latest', async () => row(7));
    expect(cache.get('a-latest')?.version).toBe(1);
    changes.taskChanged('ns/a');
    expect(cache.get('a-latest')).toBeUndefined();
    expect(cache.get('b-latest')?.version).toBe(7);
  });

  it('does not store a resolution that was loading while its task changed', async () => {
    const { cache, changes } = cacheWith();
    const pending = pendingLoad();
    const loading = cache.load('ns/a', 'a-alias', pending.load);
    changes.taskChanged('ns/a');
    pending.finish(row(1));
    expect((await loading).version).toBe(1);
    expect(cache.get('a-alias')).toBeUndefined();
  });

  it('drops everything on a gap, including loads in flight', async () => {
    const { cache, changes } = cacheWith();
    await cache.load('ns/a', 'a', async () => row(1));
    const pending = pendingLoad();
    const loading = cache.load('ns/b', 'b', pending.load);
    changes.anyChanged();
    pending.finish(row(2));
    await loading;
    expect([cache.get('a'), cache.get('b')]).toEqual([undefined, undefined]);
  });

  it('answers nothing from memory and stores nothing while changes are not known to arrive', async () => {
    const { cache, setLive } = cacheWith();
    await cache.load('ns/a', 'a', async () => row(1));
    setLive(false);
    expect(cache.get('a')).toBeUndefined();
    await cache.load('ns/b', 'b', async () => row(2));
    setLive(true);
    expect(cache.get('b')).toBeUndefined();
  });

  it('holds at most maxEntries resolutions, and stops following changes when closed', async () => {
    const { cache, changes } = cacheWith(2);
    for (const key of ['x', 'y', 'z']) await cache.load('ns/t', key, async () => row(1));
    expect([cache.get('x'), cache.get('y'), cache.get('z')].map((r) => r !== undefined)).toEqual([false, true, true]);
    cache.close();
    expect(cache.get('z')).toBeUndefined();
    await cache.load('ns/t', 'z', async () => row(3));
    changes.taskChanged('ns/t');
    expect(cache.get('z')?.version).toBe(3);
  });
});
