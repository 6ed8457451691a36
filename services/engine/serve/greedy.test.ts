import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadGguf } from '../model/gguf.js';
import type { LoadedModel } from '../model/load-model.js';
import { stories260K } from '../model/stories260k-fixture.js';
import type { MethodName } from '../prompt/vocabulary.js';
import { fullSequenceGenerate } from './full-sequence-reference.js';
import { generateText } from '../train/generate-text.js';
import { createInferenceEngine, type ServedPrompt } from './engine.js';
import { collect, greedy, randomPrompt, tinyModel } from './test-support.js';

async function reference(model: LoadedModel, text: string, prompt: ServedPrompt | undefined, maxTokens: number): Promise<number[]> {
  const served =
    prompt && (prompt.stored.placement === 'virtual-tokens' ? { prompt: prompt.stored.tensor } : { prefix: prompt.stored.tensor });
  return (await fullSequenceGenerate(model, { text, ...served, maxTokens, threads: 1 })).outputIds;
}

const methods: (MethodName | undefined)[] = [undefined, 'prompt_tuning', 'p_tuning', 'prefix_tuning'];

/** For each method: engine tokens equal generateText's, for a short and a long text, few and many virtual tokens. */
function greedyParity(load: () => Promise<LoadedModel>, cases: readonly (readonly [string, number])[], maxTokens: number): void {
  let model: LoadedModel;
  beforeAll(async () => {
    model = await load();
  });
  it.each(methods.map((m) => [m ?? 'bare model', m] as const))('%s: the same tokens as the full-sequence graph', async (_name, method) => {
    const engine = await createInferenceEngine(model, { maxSlots: 2, threads: 1 });
    try {
      for (const [text, virtual] of cases) {
        const prompt = method && randomPrompt(model, method, virtual, 7);
        const inputIds = model.tokenizer.encode(text);
        const got = await collect(engine.generate({ prompt, inputIds, sampling: { ...greedy, maxTokens } }));
        const want = await reference(model, text, prompt, maxTokens);
        expect(want.length).toBeGreaterThan(0);
        expect(got.ids).toEqual(want);
        expect(got.text).toBe(model.tokenizer.decode(want));
      }
    } finally {
      await engine.close();
    }
  });
}

describe('greedy decoding with the key/value cache: tiny GQA model', () => {
  let cleanup: () => Promise<void>;
  afterAll(() => cleanup());
  greedyParity(
    async () => {
      const tiny = await tinyModel();
      cleanup = tiny.cleanup;
      return tiny.model;
    },
    [
      ['hello there', 3],
      // 40 virtual + 33 text tokens: more than one prefill chunk, and the cache grows past its first bucket
      ['a b c d e f g h i j k l m n o p q r s t u v w x y z a b c d e f g', 40],
    ],
    40,
  );
});

if (!stories260K.available) console.warn(`skipping stories260K serving tests: ${stories260K.skipReason}`);
describe.skipIf(!stories260K.available)('greedy decoding with the key/value cache: stories260K', () => {
  greedyParity(
    () => loadGguf(stories260K.ggufPath),
    [
      ['Once upon a time', 5],
      ['The little dog was happy because', 20],
    ],
    60,
  );
});

describe('generateText (ptune generate) on the engine', () => {
  let model: LoadedModel;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ model, cleanup } = await tinyModel());
  });
  afterAll(() => cleanup());

  it("gives the full-sequence path's tokens and stop reason: max tokens, a full context, sampling, a prefix", async () => {
    const prefix = randomPrompt(model, 'prefix_tuning', 30, 2).stored.tensor;
    const prompt = randomPrompt(model, 'prompt_tuning', 3, 2).stored.tensor;
    const cases = [
      { text: 'hello', maxTokens: 10 },
      { text: 'hello', prompt, maxTokens: 300 }, // more than the 256 positions hold
      { text: 'hello', prefix, maxTokens: 12, temperature: 0.7, seed: 4 },
    ];
    const outs = [];
    for (const o of cases) {
      const got = await generateText(model, { ...o, threads: 1 });
      expect(got).toEqual(await fullSequenceGenerate(model, { ...o, threads: 1 }));
      outs.push(got);
    }
    expect(outs[0].stop).toBe('max-tokens');
    expect(outs[1].stop).toBe('context');
    expect(3 + outs[1].inputIds.length + outs[1].outputIds.length).toBe(model.spec.contextLength);
    await expect(generateText(model, { text: 'hi', prompt, prefix })).rejects.toThrow(/not both/);
  });
});
