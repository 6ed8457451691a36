import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promptAndOutput } from '../data/encode.js';
import { buildInferenceGraph, GRAPH_IO } from '../graph/decoder-graph.js';
import { GraphSession } from '../graph/run.js';
import { placementOf, servedTensor } from '../methods/serving.js';
import type { LoadedModel } from '../model/load-model.js';
import { Rng } from '../model/rng.js';
import type { MethodName } from '../prompt/vocabulary.js';
import { exampleSet } from '../train/example-set.js';
import { train } from '../train/train.js';
import { createInferenceEngine, InferenceInputError, type InferenceEngine, type ServedPrompt } from './engine.js';
import { randomPrompt, tinyModel } from './test-support.js';

let model: LoadedModel;
let cleanup: () => Promise<void>;
let engine: InferenceEngine;

beforeAll(async () => {
  ({ model, cleanup } = await tinyModel());
  engine = await createInferenceEngine(model, { maxSlots: 2, threads: 1 });
});
afterAll(async () => {
  await engine.close();
  await cleanup();
});

/** Σ log p(candidate | prompt, input) from one full-sequence graph ('all' logits), log-softmax in float64. */
async function fullSequenceScore(
  prompt: ServedPrompt | undefined,
  inputIds: readonly number[],
  candidate: readonly number[],
): Promise<number> {
  const seq = [...inputIds, ...candidate];
  const served = prompt && servedTensor(prompt.stored.placement, prompt.stored.tensor, model.spec);
  const { graph, virtualLength } = buildInferenceGraph(model, {
    batch: 1,
    seqLen: seq.length,
    ...(served
      ? prompt!.stored.placement === 'virtual-tokens'
        ? { virtualTokens: served.virtualTokens }
        : { pastKeyValues: served.pastKeyValues }
      : {}),
  });
  const session = await GraphSession.create(graph, { threads: 1 });
  try {
    const feeds = {
      [GRAPH_IO.tokens]: { data: BigInt64Array.from(seq.map(BigInt)), dims: [1, seq.length] },
      ...(served ? { [served.name]: { data: served.data, dims: served.dims } } : {}),
    };
    const logits = (await session.run(feeds, [GRAPH_IO.logits]))[GRAPH_IO.logits].data as Float32Array;
    const V = model.spec.vocabSize;
    let sum = 0;
    for (let t = inputIds.length - 1; t < seq.length - 1; t++) {
      const row = logits.subarray((virtualLength + t) * V, (virtualLength + t + 1) * V);
      const max = Math.max(...row);
      const logZ = max + Math.log(row.reduce((a, x) => a + Math.exp(x - max), 0));
      sum += row[seq[t + 1]] - logZ;
    }
    return sum;
  } finally {
    await session.release();
  }
}

describe('score', () => {
  it.each([undefined, 'prompt_tuning', 'prefix_tuning'] as (MethodName | undefined)[])(
    'matches the full-sequence log-probabilities within 1e-4 (%s)',
    async (method) => {
      const prompt = method && randomPrompt(model, method, 5, 4);
      const inputIds = model.tokenizer.encode('the quick brown fox jumps over the lazy dog and then some more words follow here');
      // one candidate longer than a chunk (32), one of a single token
      const rng = Rng.fromSeed(1);
      const candidates = [[7], [40, 41, 42], Array.from({ length: 40 }, () => 3 + rng.nextInt(300))];
      const scores = await engine.score({ prompt, inputIds, candidates });
      for (const [i, c] of candidates.entries())
        expect(Math.abs(scores[i] - (await fullSequenceScore(prompt, inputIds, c)))).toBeLessThan(1e-4);
    },
  );

  it('picks the trained label with a trained prompt, and refuses bad candidates', async () => {
    const rng = Rng.fromSeed(2);
    const examples = (n: number) =>
      exampleSet(
        Array.from({ length: n }, (_, line) =>
          promptAndOutput([1, ...Array.from({ length: 3 + rng.nextInt(4) }, () => 40 + rng.nextInt(200))], [17, 23], line),
        ),
        { padId: 0, maxSeqLen: 200 },
      );
    const result = await train({
      model,
      train: examples(24),
      virtualTokens: 4,
      init: { kind: 'sample-vocab' },
      steps: 30,
      lr: 0.1,
      batchSize: 4,
      seed: 3,
      threads: 1,
    });
    const method = result.method.method;
    const stored = {
      method,
      placement: placementOf(method),
      numVirtualTokens: 4,
      tensor: result.promptEmbeddings,
      width: model.spec.dim,
      metadata: {},
    };
    const labels = [
      [17, 23],
      [40, 41],
      [23, 17],
    ];
    const inputIds = [1, 50, 60, 70];
    const scores = await engine.score({ prompt: { id: 'trained', stored }, inputIds, candidates: labels });
    expect(scores.indexOf(Math.max(...scores))).toBe(0);
    const bare = await engine.score({ inputIds, candidates: labels });
    expect(scores[0]).toBeGreaterThan(bare[0]);

    await expect(engine.score({ inputIds, candidates: [] })).rejects.toThrow(InferenceInputError);
    await expect(engine.score({ inputIds, candidates: [[5], []] })).rejects.toThrow(/candidates\[1\] is empty/);
    await expect(engine.score({ inputIds, candidates: [Array(300).fill(5)] })).rejects.toThrow(/exceed the context/);
  });
});
