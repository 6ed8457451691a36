import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoadedModel } from '../model/load-model.js';
import type { MethodName } from '../prompt/vocabulary.js';
import { generateText } from '../train/generate-text.js';
import { createInferenceEngine, type InferenceEngine, type ServedPrompt } from './engine.js';
import { collect, randomPrompt, tinyModel } from './test-support.js';

let model: LoadedModel;
let cleanup: () => Promise<void>;
let engine: InferenceEngine;

beforeAll(async () => {
  ({ model, cleanup } = await tinyModel());
  engine = await createInferenceEngine(model, { maxSlots: 4, threads: 1 });
});
afterAll(async () => {
  await engine.close();
  await cleanup();
});

const greedy = { temperature: 0, topP: 1, topK: 0, stop: [] };

async function reference(text: string, prompt: ServedPrompt | undefined, maxTokens: number): Promise<number[]> {
  const served =
    prompt && (prompt.stored.placement === 'virtual-tokens' ? { prompt: prompt.stored.tensor } : { prefix: prompt.stored.tensor });
  return (await generateText(model, { text, ...served, maxTokens, threads: 1 })).outputIds;
}

const methods: (MethodName | undefined)[] = [undefined, 'prompt_tuning', 'p_tuning', 'prefix_tuning'];

describe('greedy decoding with the key/value cache (tiny GQA model)', () => {
  it.each(methods.map((m) => [m ?? 'bare model', m] as const))('%s: the same tokens as generateText', async (_name, method) => {
    for (const [text, virtual] of [
      ['hello there', 3],
      ['a b c d e f g h i j k l m n o p q r s t u v w x y z a b c d e f g', 40],
    ] as const) {
      const prompt = method && randomPrompt(model, method, virtual, 7);
      const inputIds = model.tokenizer.encode(text);
      const maxTokens = 40;
      const got = await collect(engine.generate({ prompt, inputIds, sampling: { ...greedy, maxTokens } }));
      const want = await reference(text, prompt, maxTokens);
      expect(want.length).toBeGreaterThan(0);
      expect(got.ids).toEqual(want);
    }
  });
});
