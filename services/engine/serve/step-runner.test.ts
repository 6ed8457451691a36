import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoadedModel } from '../model/load-model.js';
import { InputRows } from './input-rows.js';
import { SlotCache } from './slot-cache.js';
import { StepRunner } from './step-runner.js';
import { tinyModel } from './test-support.js';

let model: LoadedModel;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ model, cleanup } = await tinyModel());
});
afterAll(() => cleanup());

describe('StepRunner', () => {
  it('keeps at most maxSessions sessions, least recently used out', async () => {
    const runner = new StepRunner(model, { threads: 1 }, 2);
    const rows = new InputRows(model);
    const seq = { start: 0, count: 1, writeRow: (_i: number, out: Float32Array, row: number) => rows.token(1, 0, out, row) };
    try {
      const cache = new SlotCache(model.spec, 2, 64);
      await runner.run(cache, 1, [seq, undefined]);
      await runner.run(cache, 4, [seq], { slot: 1 });
      await runner.run(cache, 1, [undefined, seq]);
      expect(runner.shapes()).toEqual(['1x4x64', '2x1x64']);
      cache.resize(256);
      const first = await runner.run(cache, 1, [seq, undefined]);
      expect(runner.shapes()).toEqual(['2x1x64', '2x1x256']);
      // the same inputs give the same logits whatever the cache length: hidden columns weigh exactly 0
      cache.resize(64);
      expect((await runner.run(cache, 1, [seq, undefined])).logits).toEqual(first.logits);
      expect(runner.shapes()).toEqual(['2x1x256', '2x1x64']);
    } finally {
      await runner.release();
    }
  });

  it('refuses a sequence that does not fit its step', async () => {
    const runner = new StepRunner(model, { threads: 1 });
    const cache = new SlotCache(model.spec, 1, 64);
    const writeRow = (): void => undefined;
    await expect(runner.run(cache, 1, [{ start: 0, count: 2, writeRow }])).rejects.toThrow(/2 new tokens at 0 does not fit chunk 1/);
    await expect(runner.run(cache, 4, [{ start: 65, count: 1, writeRow }])).rejects.toThrow(/does not fit chunk 4, cache 64/);
    await runner.release();
  });
});
