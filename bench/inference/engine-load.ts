/**
 * The engine-level measurements of bench:inference: mixed-task throughput, decode tokens/s and time
 * to first token with the prefix cache cold and warm. Each runs on a fresh engine (2 threads).
 */
import {
  createInferenceEngine,
  decodeStoredPrompt,
  encodePromptFile,
  type GenerateRequest,
  type InferenceEngine,
  type LoadedModel,
  type ServedPrompt,
} from '../../services/engine/index.js';
import { Rng } from '../../services/engine/model/rng.js';

export const THREADS = 2;
export const INPUT = 'Once upon a time';

/** `count` prompt-tuning versions of `virtualTokens` rows (seeded, small values like trained prompts) */
export function servedPrompts(model: LoadedModel, count: number, virtualTokens: number, seed: number): ServedPrompt[] {
  const dim = model.spec.dim;
  const rng = Rng.fromSeed(seed);
  return Array.from({ length: count }, (_, i) => {
    const tensor = Float32Array.from({ length: virtualTokens * dim }, () => (rng.nextFloat() - 0.5) * 0.1);
    const bytes = encodePromptFile(tensor, dim, { method: 'prompt_tuning' });
    return { id: `bench-${seed}-${virtualTokens}-${i}`, stored: decodeStoredPrompt(bytes, `bench prompt ${i}`, model.spec) };
  });
}

interface StreamResult {
  ids: number[];
  /** performance.now() of the first token and of the end */
  first: number;
  end: number;
  timeToFirstTokenMs: number;
}

async function run(engine: InferenceEngine, request: GenerateRequest): Promise<StreamResult> {
  const stream = engine.generate(request);
  const ids: number[] = [];
  let first = 0;
  for await (const token of stream.tokens) {
    if (ids.length === 0) first = performance.now();
    ids.push(token.id);
  }
  const { timeToFirstTokenMs } = await stream.summary;
  return { ids, first, end: performance.now(), timeToFirstTokenMs };
}

const greedy = (maxTokens: number) => ({ maxTokens, temperature: 0, topP: 1, topK: 0, stop: [] });

/**
 * Tokens/s of `streams` concurrent requests spread round-robin over `prompts` (steady state: every
 * version's prefix computed once before timing).
 */
async function throughput(
  engine: InferenceEngine,
  inputIds: number[],
  prompts: ServedPrompt[],
  streams: number,
  tokens: number,
): Promise<number> {
  for (const prompt of prompts) await run(engine, { prompt, inputIds, sampling: greedy(1) });
  const started = performance.now();
  const results = await Promise.all(
    Array.from({ length: streams }, (_, i) => run(engine, { prompt: prompts[i % prompts.length], inputIds, sampling: greedy(tokens) })),
  );
  return results.reduce((n, x) => n + x.ids.length, 0) / ((performance.now() - started) / 1000);
}

export interface MixedResult {
  mixed: number;
  single: number;
}

/** 64 streams over 32 versions vs the same 64 streams on one version, alternating rounds. */
export async function mixedThroughput(model: LoadedModel, o: { slots: number; tokens: number; rounds: number }): Promise<MixedResult> {
  const engine = await createInferenceEngine(model, { maxSlots: o.slots, maxQueue: 64, threads: THREADS });
  try {
    const inputIds = model.tokenizer.encode(INPUT);
    const versions = servedPrompts(model, 32, 8, 1);
    let [mixed, single] = [0, 0];
    const runMixed = async () => (mixed = Math.max(mixed, await throughput(engine, inputIds, versions, 64, o.tokens)));
    const runSingle = async () => (single = Math.max(single, await throughput(engine, inputIds, versions.slice(0, 1), 64, o.tokens)));
    // the order alternates, so neither side always runs first after the other
    for (let r = 0; r < o.rounds; r++) for (const side of r % 2 === 0 ? [runMixed, runSingle] : [runSingle, runMixed]) await side();
    return { mixed, single };
  } finally {
    await engine.close();
  }
}

export interface DecodeResult {
  tokensPerSecond: number;
  firstRowIds: number[];
}

/**
 * Decode tokens/s of `batch` bare-model streams together (as PyTorch's side): the new tokens after
 * each stream's first, over the time from the last stream's first token to the end; best of `rounds`.
 */
export async function decodeRate(model: LoadedModel, o: { batch: number; tokens: number; rounds: number }): Promise<DecodeResult> {
  const engine = await createInferenceEngine(model, { maxSlots: o.batch, maxQueue: 0, threads: THREADS });
  try {
    const inputIds = model.tokenizer.encode(INPUT);
    let best = 0;
    let firstRowIds: number[] = [];
    await run(engine, { inputIds, sampling: greedy(2) });
    for (let r = 0; r < o.rounds; r++) {
      const results = await Promise.all(Array.from({ length: o.batch }, () => run(engine, { inputIds, sampling: greedy(o.tokens) })));
      const start = Math.max(...results.map((x) => x.first));
      const end = Math.max(...results.map((x) => x.end));
      best = Math.max(best, (o.batch * (o.tokens - 1)) / ((end - start) / 1000));
      firstRowIds = results[0].ids;
    }
    return { tokensPerSecond: best, firstRowIds };
  } finally {
    await engine.close();
  }
}

export interface TtftResult {
  virtualTokens: number;
  coldMs: number;
  warmMs: number;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Time to first token of one request alone, its version's prefix not cached (cold) and cached (warm); medians over `samples` versions. */
export async function timeToFirstToken(model: LoadedModel, virtualTokens: number, samples: number): Promise<TtftResult> {
  const engine = await createInferenceEngine(model, { maxSlots: 4, threads: THREADS });
  try {
    const inputIds = model.tokenizer.encode(INPUT);
    await run(engine, { inputIds, sampling: greedy(1) });
    const cold: number[] = [];
    const warm: number[] = [];
    for (const prompt of servedPrompts(model, samples, virtualTokens, 7)) {
      const once = async () => (await run(engine, { prompt, inputIds, sampling: greedy(1) })).timeToFirstTokenMs;
      cold.push(await once());
      warm.push(await once());
    }
    return { virtualTokens, coldMs: median(cold), warmMs: median(warm) };
  } finally {
    await engine.close();
  }
}
