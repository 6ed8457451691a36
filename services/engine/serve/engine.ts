/**
 * The inference engine's contract (issue #16): a model served to many concurrent requests, each
 * with its own stored prompt (or none), sharing one running batch. Requests are token ids; the
 * caller tokenizes (and renders chat templates). `generate` streams tokens; `score` returns the
 * log-likelihood of given continuations.
 */
import type { ExecutionProvider } from '../graph/run.js';
import type { StoredPrompt } from '../methods/serving.js';
import type { LoadedModel } from '../model/load-model.js';
import type { WeightsDtype } from '../model/weights-dtype.js';

/** One prompt version, as the engine needs it. */
export interface ServedPrompt {
  /** cache identity: the prompt blob's sha256 */
  readonly id: string;
  /** decodeStoredPrompt(...) of its bytes (methods/serving.ts) */
  readonly stored: StoredPrompt;
}

export interface SamplingSettings {
  /** ≥ 1; prompt tokens + virtual tokens + maxTokens must fit the model's context */
  maxTokens: number;
  /** ≥ 0; 0 = greedy */
  temperature: number;
  /** (0, 1]; 1 = off */
  topP: number;
  /** ≥ 0; 0 = off */
  topK: number;
  /** the text is cut before the first occurrence of any of these (finish 'stop') */
  stop: readonly string[];
  /** same seed + same request → same output; default 0 */
  seed?: number;
}

export interface GenerateRequest {
  prompt?: ServedPrompt;
  /** the text's token ids (BOS included when the tokenizer adds one); at least one */
  inputIds: readonly number[];
  sampling: SamplingSettings;
  /** aborting frees the request's slot before the next step; the stream ends with finish 'cancelled' */
  signal?: AbortSignal;
}

export interface GenerateSummary {
  promptTokens: number;
  completionTokens: number;
  finish: 'eos' | 'stop' | 'length' | 'cancelled';
  timeToFirstTokenMs: number;
}

export interface GeneratedToken {
  id: number;
  /** the text this token adds (may be '' while a multi-byte character or a possible stop string is pending) */
  text: string;
}

export interface GenerateStream {
  tokens: AsyncIterable<GeneratedToken>;
  summary: Promise<GenerateSummary>;
}

export interface ScoreRequest {
  prompt?: ServedPrompt;
  inputIds: readonly number[];
  /** token ids of each continuation (each at least one token) */
  candidates: readonly (readonly number[])[];
  signal?: AbortSignal;
}

export interface EngineStats {
  running: number;
  queued: number;
  slots: number;
  prefixCacheHits: number;
  prefixCacheMisses: number;
  prefixCacheBytes: number;
  tokensGenerated: number;
}

export interface InferenceEngine {
  readonly model: LoadedModel;
  /** throws EngineBusyError (queue full), InferenceInputError (bad sizes/values) synchronously */
  generate(request: GenerateRequest): GenerateStream;
  /** summed log-probability of each candidate's tokens after inputIds */
  score(request: ScoreRequest): Promise<number[]>;
  stats(): EngineStats;
  close(): Promise<void>;
}

export interface InferenceEngineOptions {
  /** sequences decoded together per step; default 8 */
  maxSlots?: number;
  /** requests waiting for a slot beyond which generate throws EngineBusyError; default 64 */
  maxQueue?: number;
  /** byte budget of the prefix key/value cache (LRU); default 256 MiB */
  prefixCacheBytes?: number;
  /**
   * the running key/value cache's largest size (slots × its length bucket); a request that would
   * need more is refused (InferenceInputError naming max_tokens); default 4 GiB
   */
  maxCacheBytes?: number;
  threads?: number;
  executionProvider?: ExecutionProvider;
  /**
   * tokens per prefill step; default 32. 1 prefills through the decode graph itself (with one
   * slot: one session instead of two, for one-off generation of a short text)
   */
  prefillChunk?: number;
  /** keep onnxruntime's idle threads spinning between kernels (dedicated cores only); default false */
  spinning?: boolean;
  /** the precision the frozen weights are held in; default auto: the loaded model's weight bank (another builds a second bank) */
  weightsDtype?: WeightsDtype;
}

export { EngineBusyError, EngineClosedError, InferenceInputError } from './errors.js';
export { createInferenceEngine } from './batch-engine.js';
