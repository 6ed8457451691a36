/**
 * Text continuation with an optional prompt: greedy by default, or sampling at a temperature
 * from a seeded generator. One inference session of shape [1, T] (T = input + max new tokens,
 * capped by the context) is reused for every new token: the sequence is right-padded and the
 * logits are read at the last real position, which causal attention keeps independent of padding.
 * A prefix (prefix tuning) takes positions before the virtual tokens and the text.
 */
import { buildInferenceGraph, GRAPH_IO } from '../graph/decoder-graph.js';
import { servedTensor } from '../methods/serving.js';
import { GraphSession, type ExecutionProvider, type HostTensor } from '../graph/run.js';
import type { LoadedModel } from '../model/load-model.js';
import { Rng } from '../model/rng.js';
import type { WeightsDtype } from '../model/weights-dtype.js';
import { heldPrecision } from '../graph/weight-bank.js';

export interface GenerateTextOptions {
  text: string;
  /** [P, dim] virtual tokens placed before BOS */
  prompt?: Float32Array;
  /** [P, layers·2·kvDim] key/value prefix (prefix tuning, ../methods/prefix-layout.ts) */
  prefix?: Float32Array;
  /** default 64 */
  maxTokens?: number;
  /** 0 (default) is greedy */
  temperature?: number;
  seed?: number;
  executionProvider?: ExecutionProvider;
  threads?: number;
  /** keep onnxruntime's idle threads spinning between kernels (faster on dedicated cores) */
  spinning?: boolean;
  /** the precision the frozen weights are held in (default auto: the loaded model's) */
  weightsDtype?: WeightsDtype;
}

export interface GeneratedText {
  /** decoded new tokens only */
  completion: string;
  inputIds: number[];
  outputIds: number[];
  stop: 'eos' | 'max-tokens' | 'context';
}

export async function generateText(model: LoadedModel, o: GenerateTextOptions): Promise<GeneratedText> {
  const config = model.spec;
  const maxTokens = o.maxTokens ?? 64;
  const temperature = o.temperature ?? 0;
  if (!Number.isSafeInteger(maxTokens) || maxTokens < 1) throw new Error(`max tokens must be an integer ≥ 1 (got ${maxTokens})`);
  if (!(Number.isFinite(temperature) && temperature >= 0)) throw new Error(`temperature must be a finite number ≥ 0 (got ${temperature})`);
  const prompt = o.prompt && servedTensor('virtual-tokens', o.prompt, config);
  const prefix = o.prefix && servedTensor('past-key-values', o.prefix, config);
  const P = (prompt?.length ?? 0) + (prefix?.length ?? 0);
  const inputIds = model.tokenizer.encode(o.text);
  const seqLen = Math.min(config.contextLength - P, inputIds.length + maxTokens);
  if (inputIds.length > seqLen) {
    throw new Error(
      `the text is ${inputIds.length} tokens; with ${P} virtual tokens the model's context of ${config.contextLength} has no room`,
    );
  }
  const built = buildInferenceGraph(model, {
    batch: 1,
    seqLen,
    logits: 'at-positions',
    virtualTokens: prompt?.virtualTokens,
    pastKeyValues: prefix?.pastKeyValues,
    weightsHeld: heldPrecision(o.weightsDtype),
  });
  const session = await GraphSession.create(built.graph, {
    executionProvider: o.executionProvider,
    threads: o.threads,
    spinning: o.spinning,
  });
  try {
    const rng = Rng.fromSeed(o.seed ?? 0);
    const tokens = new BigInt64Array(seqLen);
    inputIds.forEach((id, i) => (tokens[i] = BigInt(id)));
    const outputIds: number[] = [];
    let length = inputIds.length;
    const feeds: Record<string, HostTensor> = {
      [GRAPH_IO.tokens]: { data: tokens, dims: [1, seqLen] },
      [GRAPH_IO.positions]: { data: new BigInt64Array(1), dims: [1] },
    };
    for (const s of [prompt, prefix]) if (s) feeds[s.name] = { data: s.data, dims: s.dims };
    for (;;) {
      if (outputIds.length === maxTokens) return done('max-tokens');
      if (length === seqLen) return done('context');
      (feeds[GRAPH_IO.positions].data as BigInt64Array)[0] = BigInt(length - 1);
      const logits = (await session.run(feeds, [GRAPH_IO.logits]))[GRAPH_IO.logits].data as Float32Array;
      const next = temperature === 0 ? argmax(logits) : sample(logits, temperature, rng);
      if (next === model.tokenizer.eosId) return done('eos');
      outputIds.push(next);
      tokens[length++] = BigInt(next);
    }
    function done(stop: GeneratedText['stop']): GeneratedText {
      return { completion: model.tokenizer.decode(outputIds), inputIds, outputIds, stop };
    }
  } finally {
    await session.release();
  }
}

function argmax(xs: Float32Array): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i] > xs[best]) best = i;
  return best;
}

function sample(logits: Float32Array, temperature: number, rng: Rng): number {
  const max = logits[argmax(logits)];
  const weights = Array.from(logits, (x) => Math.exp((x - max) / temperature));
  let u = rng.nextFloat() * weights.reduce((a, b) => a + b, 0);
  for (let i = 0; i < weights.length; i++) {
    u -= weights[i];
    if (u < 0) return i;
  }
  return weights.length - 1;
}
