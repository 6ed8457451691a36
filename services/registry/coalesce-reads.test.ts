import { describe, expect, it } from 'vitest';
import { ReadCoalescer } from './coalesce-reads.js';

/** A load whose completion the test controls, recording when it started. */
function controlledLoads() {
  const started: { resolve: (value: number) => void; reject: (err: Error) => void }[] = [];
  const load = () => new Promise<number>((resolve, reject) => started.push({ resolve, reject }));
  return { started, load };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('ReadCoalescer', () => {
  it('never hands a caller the result of a read that started before it asked', async () => {
    const reads = new ReadCoalescer<number>();
    const { started, load } = controlledLoads();
    const first = reads.read('k', load);
    const second = reads.read('k', load);
    const third = reads.read('k', load);
    expect(started).toHaveLength(1);
    started[0].resolve(1);
    expect(await first).toBe(1);
    await tick();
    // the two later callers share one read that began after both of them arrived
    expect(started).toHaveLength(2);
    const fourth = reads.read('k', load);
    started[1].resolve(2);
    expect(await second).toBe(2);
    expect(await third).toBe(2);
    await tick();
    expect(started).toHaveLength(3);
    started[2].resolve(3);
    expect(await fourth).toBe(3);
  });

  it('keeps keys apart, starts afresh once idle, and passes failures to the callers of that read only', async () => {
    const reads = new ReadCoalescer<number>();
    const { started, load } = controlledLoads();
    const a = reads.read('a', load);
    const b = reads.read('b', load);
    expect(started).toHaveLength(2);
    started[0].reject(new Error('boom'));
    started[1].resolve(7);
    await expect(a).rejects.toThrow('boom');
    expect(await b).toBe(7);
    const again = reads.read('a', load);
    expect(started).toHaveLength(3);
    started[2].resolve(8);
    expect(await again).toBe(8);
  });
});
