/**
 * Test support: text continuation the way `generateText` worked before the key/value cache, one
 * static-shape full-sequence session [1, T] rerun for every new token (right-padded; logits read at
 * the last real position). The serving tests check the engine against it token for token.
 */
import { buildInferenceGraph, GRAPH_IO } from '../graph/decoder-graph.js';
import { servedTensor } from '../methods/serving.js';
import type { GenerateTextOptions, GeneratedText } from '../train/generate-text.js';
import { GraphSession, type HostTensor } from '../graph/run.js';
import { heldPrecision } from '../graph/weight-bank.js';
import type { LoadedModel } from '../model/load-model.js';
import { Rng } from '../model/rng.js';
import { sampleToken } from './sampler.js';

export async function fullSequenceGenerate(model: LoadedModel, o: GenerateTextOptions): Promise<GeneratedText> {
  const config = model.spec;
  const maxTokens = o.maxTokens ?? 64;
  const temperature = o.temperature ?? 0;
  const prompt = o.prompt && servedTensor('virtual-tokens', o.prompt, config);
  const prefix = o.prefix && servedTensor('past-key-values', o.prefix, config);
  const P = (prompt?.length ?? 0) + (prefix?.length ?? 0);
  const inputIds = model.tokenizer.encode(o.text);
  const seqLen = Math.min(config.contextLength - P, inputIds.length + maxTokens);
  if (inputIds.length > seqLen) throw new Error(`reference: ${inputIds.length} tokens do not fit`);
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
      const next = sampleToken(logits, { temperature, topK: 0, topP: 1 }, rng);
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
