import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoadedModel } from '../model/load-model.js';
import { fullSequenceGenerate } from './full-sequence-reference.js';
import {
  createInferenceEngine,
  EngineBusyError,
  EngineClosedError,
  InferenceInputError,
  type GenerateRequest,
  type InferenceEngine,
} from './engine.js';
import { slotCacheBytes } from './slot-cache.js';
import { collect, greedy, randomPrompt, tinyModel } from './test-support.js';

let model: LoadedModel;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  ({ model, cleanup } = await tinyModel());
});
afterAll(() => cleanup());

async function withEngine<T>(options: Parameters<typeof createInferenceEngine>[1], run: (e: InferenceEngine) => Promise<T>): Promise<T> {
  const engine = await createInferenceEngine(model, { threads: 1, ...options });
  try {
    return await run(engine);
  } finally {
    await engine.close();
  }
}

const ids = (text: string): number[] => model.tokenizer.encode(text);

/** Requests of every method and the bare model, different lengths and max_tokens. */
function mixedRequests(): GenerateRequest[] {
  const prompts = [
    undefined,
    randomPrompt(model, 'prompt_tuning', 4, 1),
    randomPrompt(model, 'p_tuning', 9, 2),
    randomPrompt(model, 'prefix_tuning', 6, 3),
  ];
  const texts = ['hello', 'the quick brown fox', 'a', 'one two three four five six seven'];
  return prompts.flatMap((prompt, i) =>
    texts
      .slice(0, 2)
      .map((_, j) => ({ prompt, inputIds: ids(texts[(i + j) % texts.length]), sampling: { ...greedy, maxTokens: 6 + 5 * ((i + j) % 4) } })),
  );
}

describe('continuous batching', () => {
  it('a mixed batch (bare model and three methods at once) gives each request the tokens it gets alone', async () => {
    const requests = mixedRequests();
    const alone = await withEngine({ maxSlots: 1 }, async (e) => {
      const out: number[][] = [];
      for (const r of requests) out.push((await collect(e.generate(r))).ids);
      return out;
    });
    await withEngine({ maxSlots: 4 }, async (e) => {
      // 8 requests over 4 slots with different max_tokens: requests leave mid-run and queued ones join
      let peak = 0;
      const runs = requests.map((r) => collect(e.generate(r)));
      const watch = setInterval(() => (peak = Math.max(peak, e.stats().running)), 0);
      const together = await Promise.all(runs);
      clearInterval(watch);
      expect(together.map((t) => t.ids)).toEqual(alone);
      expect(peak).toBeGreaterThan(1);
      expect(e.stats()).toMatchObject({ running: 0, queued: 0, slots: 4, prefixCacheMisses: 3, prefixCacheHits: 3 });
    });
  });

  it('a request joining a running batch mid-decode leaves the others unchanged', async () => {
    const [a, b] = mixedRequests().slice(2, 4);
    const long = { ...a, sampling: { ...greedy, maxTokens: 30 } };
    const alone = await withEngine({ maxSlots: 2 }, async (e) => [
      (await collect(e.generate(long))).ids,
      (await collect(e.generate(b))).ids,
    ]);
    await withEngine({ maxSlots: 2 }, async (e) => {
      const first = e.generate(long);
      const seen: number[] = [];
      let joined: Promise<{ ids: number[] }> | undefined;
      for await (const t of first.tokens) {
        seen.push(t.id);
        if (seen.length === 10) joined = collect(e.generate(b));
      }
      expect(seen).toEqual(alone[0]);
      expect((await joined!).ids).toEqual(alone[1]);
    });
  });

  it('a long text is prefilled a chunk at a time between decode steps: running streams go on meanwhile', async () => {
    await withEngine({ maxSlots: 2 }, async (e) => {
      const running = e.generate({ inputIds: ids('hello'), sampling: { ...greedy, maxTokens: 60 } });
      const long = ids(Array.from({ length: 140 }, (_, i) => 'abcdefghijklmnopqrstuvwxyz'[i % 26]).join(' '));
      expect(long.length).toBeGreaterThan(4 * 32);
      let before = 0;
      let during = 0;
      for await (const _ of running.tokens) {
        if (before === 0 && e.stats().tokensGenerated >= 3) {
          before = e.stats().tokensGenerated;
          const joined = e.generate({ inputIds: long, sampling: { ...greedy, maxTokens: 2 } });
          void (async () => {
            for await (const __ of joined.tokens) if (during === 0) during = e.stats().tokensGenerated - before;
          })();
        }
      }
      // 5 chunks of 32: the running stream decoded a token after each of the first 4, then the first token of the long one
      expect(during).toBeGreaterThanOrEqual(5);
    });
  });

  it('sampling: the same seed gives the same tokens, alone or batched; another seed other tokens; top_k 1 is greedy', async () => {
    const inputIds = ids('once upon');
    const sampling = { temperature: 1.5, topP: 0.95, topK: 40, stop: [], maxTokens: 24 };
    await withEngine({ maxSlots: 3 }, async (e) => {
      const one = await collect(e.generate({ inputIds, sampling: { ...sampling, seed: 5 } }));
      const [again, other] = await Promise.all([
        collect(e.generate({ inputIds, sampling: { ...sampling, seed: 5 } })),
        collect(e.generate({ inputIds, sampling: { ...sampling, seed: 6 } })),
      ]);
      expect(again.ids).toEqual(one.ids);
      expect(other.ids).not.toEqual(one.ids);
      const topK1 = await collect(e.generate({ inputIds, sampling: { ...sampling, topK: 1, seed: 9 } }));
      const greedyOut = await collect(e.generate({ inputIds, sampling: { ...greedy, maxTokens: 24 } }));
      expect(topK1.ids).toEqual(greedyOut.ids);
    });
  });

  it('temperature sampling without top_k / top_p draws as the full-sequence path does with the same seed', async () => {
    const want = await fullSequenceGenerate(model, { text: 'once upon', temperature: 0.8, seed: 11, maxTokens: 20, threads: 1 });
    const got = await withEngine({ maxSlots: 2 }, (e) =>
      collect(e.generate({ inputIds: want.inputIds, sampling: { temperature: 0.8, topP: 1, topK: 0, stop: [], seed: 11, maxTokens: 20 } })),
    );
    expect(got.ids).toEqual(want.outputIds);
  });

  it('a stop string cuts the text before it and finishes with "stop"', async () => {
    const inputIds = ids('hello there');
    await withEngine({ maxSlots: 1 }, async (e) => {
      const full = await collect(e.generate({ inputIds, sampling: { ...greedy, maxTokens: 30 } }));
      expect(full.text).toBe(model.tokenizer.decode(full.ids));
      const stop = full.text.slice(Math.floor(full.text.length / 2), Math.floor(full.text.length / 2) + 3);
      const cut = full.text.indexOf(stop);
      expect(stop.length).toBe(3);
      const stopped = await collect(e.generate({ inputIds, sampling: { ...greedy, maxTokens: 30, stop: ['never appears', stop] } }));
      expect(stopped.text).toBe(full.text.slice(0, cut));
      expect(stopped.summary.finish).toBe('stop');
      expect(stopped.summary.completionTokens).toBeLessThan(full.summary.completionTokens);
    });
  });

  it('abort frees the slot at once, the stream ends "cancelled", and the others go on', async () => {
    await withEngine({ maxSlots: 2, maxQueue: 0 }, async (e) => {
      const controller = new AbortController();
      const other = collect(e.generate({ inputIds: ids('hello'), sampling: { ...greedy, maxTokens: 20 } }));
      const aborted = e.generate({ inputIds: ids('abc'), sampling: { ...greedy, maxTokens: 200 }, signal: controller.signal });
      let count = 0;
      for await (const _ of aborted.tokens) {
        if (++count === 3) {
          expect(e.stats().running).toBe(2);
          controller.abort();
          expect(e.stats().running).toBe(1);
        }
      }
      expect(await aborted.summary).toMatchObject({ finish: 'cancelled', completionTokens: 3 });
      expect((await other).summary).toMatchObject({ finish: 'length', completionTokens: 20 });
    });
  });

  it('beyond the queue limit generate throws EngineBusyError; nothing else is affected', async () => {
    await withEngine({ maxSlots: 1, maxQueue: 1 }, async (e) => {
      const request = { inputIds: ids('hello'), sampling: { ...greedy, maxTokens: 5 } };
      const accepted = [e.generate(request), e.generate(request)];
      expect(() => e.generate(request)).toThrow(EngineBusyError);
      const outs = await Promise.all(accepted.map(collect));
      expect(outs.map((o) => o.summary.completionTokens)).toEqual([5, 5]);
      expect((await collect(e.generate(request))).ids).toEqual(outs[0].ids);
    });
  });

  it('bad sizes and values are refused with the field named, before anything runs', async () => {
    await withEngine({ maxSlots: 1 }, async (e) => {
      const ok = { inputIds: ids('hi'), sampling: { ...greedy, maxTokens: 4 } };
      const bad: [{ inputIds?: number[]; sampling?: Partial<GenerateRequest['sampling']> }, RegExp][] = [
        [{ sampling: { maxTokens: 5000 } }, /max_tokens 5000 exceeds the context/],
        [{ sampling: { maxTokens: 0 } }, /max_tokens must be an integer ≥ 1/],
        [{ sampling: { temperature: -1 } }, /temperature/],
        [{ sampling: { topP: 0 } }, /top_p must be in \(0, 1\]/],
        [{ sampling: { topK: 1.5 } }, /top_k/],
        [{ sampling: { stop: [''] } }, /stop\[0\]/],
        [{ sampling: { seed: 0.5 } }, /seed/],
        [{ inputIds: [] }, /input_ids is empty/],
        [{ inputIds: [1, 99999] }, /input_ids\[1\] = 99999/],
      ];
      for (const [change, message] of bad) {
        const request = { ...ok, ...change, sampling: { ...ok.sampling, ...change.sampling } } as GenerateRequest;
        expect(() => e.generate(request), String(message)).toThrow(InferenceInputError);
        expect(() => e.generate(request)).toThrow(message);
      }
      expect(e.stats()).toMatchObject({ running: 0, queued: 0, tokensGenerated: 0 });
    });
    // tiny: 2 layers · 2 · 2 KV heads · 8 dims · 4 B = 256 B per position and slot
    await withEngine({ maxSlots: 2, maxCacheBytes: 2 * 64 * 256 }, async (e) => {
      const fits = { inputIds: ids('hi'), sampling: { ...greedy, maxTokens: 60 - ids('hi').length } };
      expect((await collect(e.generate(fits))).summary.completionTokens).toBeGreaterThan(0);
      expect(() => e.generate({ ...fits, sampling: { ...greedy, maxTokens: 100 } })).toThrow(/max_tokens 100: .* over this engine's/);
    });
  });

  it('the prefix cache computes a version once and keeps to its byte budget', async () => {
    const request = (seed: number) => ({
      prompt: randomPrompt(model, 'prompt_tuning', 8, seed),
      inputIds: ids('hi'),
      sampling: { ...greedy, maxTokens: 3 },
    });
    const bytesPerPrefix = 2 * model.spec.nLayers * model.spec.nKvHeads * 8 * model.spec.headDim * 4;
    await withEngine({ maxSlots: 1, prefixCacheBytes: bytesPerPrefix }, async (e) => {
      const first = await collect(e.generate(request(1)));
      expect((await collect(e.generate(request(1)))).ids).toEqual(first.ids);
      expect(e.stats()).toMatchObject({ prefixCacheHits: 1, prefixCacheMisses: 1, prefixCacheBytes: bytesPerPrefix });
      await collect(e.generate(request(2))); // evicts version 1
      await collect(e.generate(request(1)));
      expect(e.stats()).toMatchObject({ prefixCacheHits: 1, prefixCacheMisses: 3, prefixCacheBytes: bytesPerPrefix });
    });
  });
});

describe('close', () => {
  it('finishes running and queued requests as cancelled and refuses new ones', async () => {
    const e = await createInferenceEngine(model, { maxSlots: 1, maxQueue: 2, threads: 1 });
    const request = { inputIds: ids('hello'), sampling: { ...greedy, maxTokens: 200 } };
    const streams = [e.generate(request), e.generate(request)];
    const first = streams[0].tokens[Symbol.asyncIterator]();
    await first.next();
    await e.close();
    expect((await Promise.all(streams.map((s) => s.summary))).map((s) => s.finish)).toEqual(['cancelled', 'cancelled']);
    // closed is not busy: the service says UNAVAILABLE (another server may answer), not "retry later"
    expect(() => e.generate(request)).toThrow(EngineClosedError);
    await expect(e.score({ inputIds: ids('hello'), candidates: [[5]] })).rejects.toThrow(EngineClosedError);
  });
});

describe('score limits', () => {
  it("refuses candidates whose copies of the input's keys/values exceed the cache budget, naming candidates", async () => {
    // room for 4 rows of the smallest cache bucket (64 positions)
    const e = await createInferenceEngine(model, { maxSlots: 1, threads: 1, maxCacheBytes: 4 * slotCacheBytes(model.spec, 1, 64) });
    try {
      const one = await e.score({ inputIds: ids('hello'), candidates: [[5]] });
      expect(one).toHaveLength(1);
      const many = Array.from({ length: 64 }, (_, i) => [5 + i]);
      await expect(e.score({ inputIds: ids('hello'), candidates: many })).rejects.toThrow(
        /^candidates: 64 candidates .* over this engine's/,
      );
    } finally {
      await e.close();
    }
  });

  it('a caller gone before its turn leaves the score queue at once', async () => {
    const e = await createInferenceEngine(model, { maxSlots: 1, threads: 1 });
    try {
      const abort = new AbortController();
      const first = e.score({ inputIds: ids('hello'), candidates: [[5]] });
      const second = e.score({ inputIds: ids('hello'), candidates: [[6]], signal: abort.signal });
      abort.abort();
      await expect(second).rejects.toThrow(/cancelled/);
      expect(await first).toHaveLength(1);
    } finally {
      await e.close();
    }
  });
});
