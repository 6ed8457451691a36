/**
 * Text continuation with an optional prompt: greedy by default, or sampling at a temperature
 * from a seeded generator, through the serving engine (../serve): the text is prefilled once into
 * a key/value cache, then each new token costs one step over the cache, not a rerun of the whole
 * sequence. A prompt's virtual tokens, or a prefix (prefix tuning), take the positions before the
 * text. Generation stops at EOS, after maxTokens, or when the context is full.
 */
import type { Placement } from '../methods/method.js';
import { servedTensor } from '../methods/serving.js';
import type { ExecutionProvider } from '../graph/run.js';
import type { LoadedModel } from '../model/load-model.js';
import type { WeightsDtype } from '../model/weights-dtype.js';
import { createInferenceEngine, type ServedPrompt } from '../serve/engine.js';

/** prompt + text positions prefilled one token per step (building a second session costs more) */
const SHORT_TEXT = 32;

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
  if (o.prompt && o.prefix) throw new Error('generateText: give virtual tokens (prompt) or a key/value prefix, not both');
  const prompt = o.prompt ? served('virtual-tokens', o.prompt, model) : o.prefix ? served('past-key-values', o.prefix, model) : undefined;
  const P = prompt?.stored.numVirtualTokens ?? 0;
  const inputIds = model.tokenizer.encode(o.text);
  const room = config.contextLength - P - inputIds.length;
  if (room < 0) {
    throw new Error(
      `the text is ${inputIds.length} tokens; with ${P} virtual tokens the model's context of ${config.contextLength} has no room`,
    );
  }
  const steps = Math.min(maxTokens, room);
  if (steps === 0) return { completion: '', inputIds, outputIds: [], stop: 'context' };
  const engine = await createInferenceEngine(model, {
    maxSlots: 1,
    prefixCacheBytes: 0,
    // a short text and prompt go through the decode graph token by token: one session to build, not two
    prefillChunk: P + inputIds.length <= SHORT_TEXT ? 1 : undefined,
    threads: o.threads,
    executionProvider: o.executionProvider,
    spinning: o.spinning,
    weightsDtype: o.weightsDtype,
  });
  try {
    const stream = engine.generate({
      prompt,
      inputIds,
      sampling: { maxTokens: steps, temperature, topP: 1, topK: 0, stop: [], seed: o.seed ?? 0 },
    });
    const outputIds: number[] = [];
    for await (const token of stream.tokens) outputIds.push(token.id);
    const { finish } = await stream.summary;
    const stop = finish === 'eos' ? 'eos' : steps < maxTokens ? 'context' : 'max-tokens';
    return { completion: model.tokenizer.decode(outputIds), inputIds, outputIds, stop };
  } finally {
    await engine.close();
  }
}

/** A raw stored tensor as the engine serves it; throws if it is not whole rows for this model. */
function served(placement: Placement, tensor: Float32Array, model: LoadedModel): ServedPrompt {
  const { length } = servedTensor(placement, tensor, model.spec);
  const method = placement === 'virtual-tokens' ? 'prompt_tuning' : 'prefix_tuning';
  return { id: 'generate', stored: { method, placement, numVirtualTokens: length, tensor, width: tensor.length / length, metadata: {} } };
}
