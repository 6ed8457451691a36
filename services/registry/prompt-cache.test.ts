import { describe, expect, it } from 'vitest';
import { PromptCache } from './prompt-cache.js';

const payload = (size: number, tag: string) => ({ bytes: new Uint8Array(size), sha256: tag });

describe('PromptCache', () => {
  it('evicts least recently used entries to stay within its byte budget', () => {
    const cache = new PromptCache(100);
    cache.set('a', payload(40, 'a'));
    cache.set('b', payload(40, 'b'));
    expect(cache.get('a')?.sha256).toBe('a');
    cache.set('c', payload(40, 'c'));
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')?.sha256).toBe('a');
    expect(cache.sizeBytes).toBe(80);
    cache.set('huge', payload(101, 'huge'));
    expect(cache.get('huge')).toBeUndefined();
    expect(cache.sizeBytes).toBe(80);
  });

  it('loads a missing key once for concurrent callers and reports hits and misses', async () => {
    const lookups: string[] = [];
    const cache = new PromptCache(1000, (result) => lookups.push(result));
    let loads = 0;
    const load = async () => {
      loads++;
      return payload(10, 'x');
    };
    const [one, two] = await Promise.all([cache.getOrLoad('x', load), cache.getOrLoad('x', load)]);
    expect(one).toBe(two);
    await cache.getOrLoad('x', load);
    expect(loads).toBe(1);
    expect(lookups).toEqual(['miss', 'miss', 'hit']);
  });

  it('caches nothing with a zero budget', async () => {
    const cache = new PromptCache(0);
    let loads = 0;
    await cache.getOrLoad('x', async () => (loads++, payload(1, 'x')));
    await cache.getOrLoad('x', async () => (loads++, payload(1, 'x')));
    expect(loads).toBe(2);
  });
});
