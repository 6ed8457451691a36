/**
 * The InferenceService (proto/ptune/v1/inference.proto): checks the request, resolves its prompt
 * through the registry with the caller's token, and runs it on the engine's shared batch. A client
 * that cancels aborts its engine request (its slot is freed before the next step).
 */
import { implement, type CallContext, type ServiceHandlers, type ServiceImplementation } from '../grpc/index.js';
import { FinishReason, InferenceService } from '../gen/ptune/v1/inference_pb.js';
import { invalidArgument, invalidRequest, resourceExhausted, unavailable } from '../domain/index.js';
import { EngineBusyError, EngineClosedError, InferenceInputError, type GenerateSummary, type InferenceEngine } from '../engine/index.js';
import type { PromptResolver } from './prompt-resolver.js';
import { checkContext, encodeInput, samplingSettings } from './request-input.js';

/** One base model ready to serve. */
export interface InferenceRuntime {
  readonly modelName: string;
  readonly engine: InferenceEngine;
  readonly resolver: PromptResolver;
}

/** Told about every finished generation (metrics). */
export interface InferenceObserver {
  generated(summary: GenerateSummary): void;
}

export interface InferenceServiceOptions {
  /** the served model; may load lazily (a rejection answers UNAVAILABLE and is retried on the next call) */
  readonly runtime: () => Promise<InferenceRuntime>;
  readonly observer?: InferenceObserver;
}

const MAX_SCORE_ITEMS = 64;

const FINISH: Record<Exclude<GenerateSummary['finish'], 'cancelled'>, FinishReason> = {
  eos: FinishReason.EOS,
  stop: FinishReason.STOP,
  length: FinishReason.LENGTH,
};

/** The service grpc-js serves, over the handlers (which the HTTP routes share). */
export function createInferenceService(handlers: ServiceHandlers<typeof InferenceService>): ServiceImplementation {
  return implement(InferenceService, handlers);
}

/**
 * The handlers themselves, which the OpenAI-compatible routes call in-process (no second hop
 * through the gRPC port). Access needs no guard in front of them: every call reaches the registry
 * (GetPrompt, or GetBaseModel for the bare model) with the caller's token, and the registry's rules
 * decide.
 */
export function inferenceHandlers(options: InferenceServiceOptions): ServiceHandlers<typeof InferenceService> {
  const runtime = async (): Promise<InferenceRuntime> => {
    try {
      return await options.runtime();
    } catch (err) {
      throw unavailable(`the base model is not ready: ${(err as Error).message}`);
    }
  };

  return {
    async *generate(request, context) {
      const { engine, resolver } = await runtime();
      const model = engine.model;
      const inputIds = encodeInput(model, request.input, 'input');
      const sampling = samplingSettings(model, request.sampling, 'sampling');
      const resolved = await resolver.resolve(request.prompt, authorization(context), context.signal);
      checkContext(model, resolved.prompt?.stored.numVirtualTokens ?? 0, inputIds.length, sampling.maxTokens, 'sampling.max_tokens');
      const stream = onEngine(() => engine.generate({ prompt: resolved.prompt, inputIds, sampling, signal: context.signal }));
      for await (const token of stream.tokens) yield { part: { case: 'chunk', value: { text: token.text, tokenIds: [token.id] } } };
      const summary = await stream.summary;
      options.observer?.generated(summary);
      if (summary.finish === 'cancelled') {
        // the caller went away (nothing more to send), or the engine closed under it: say so
        if (context.signal.aborted) return;
        throw unavailable('the inference engine is shutting down; retry on another server');
      }
      yield {
        part: {
          case: 'summary',
          value: {
            promptTokens: summary.promptTokens,
            completionTokens: summary.completionTokens,
            finishReason: FINISH[summary.finish],
            servedBy: resolved.servedBy,
            timeToFirstTokenSeconds: summary.timeToFirstTokenMs / 1000,
          },
        },
      };
    },

    async score(request, context) {
      const { engine, resolver } = await runtime();
      const model = engine.model;
      countIn('inputs', request.inputs.length);
      countIn('candidates', request.candidates.length);
      const inputs = request.inputs.map((input, i) => encodeInput(model, input, `inputs[${i}]`));
      const candidates = request.candidates.map((text, i) => {
        const ids = model.tokenizer.encode(text, { addBos: false, continuation: true });
        if (ids.length === 0) throw invalidArgument(`candidates[${i}]`, 'must not be empty');
        return ids;
      });
      const resolved = await resolver.resolve(request.prompt, authorization(context), context.signal);
      const longest = (lists: readonly (readonly number[])[]) => Math.max(...lists.map((ids) => ids.length));
      checkContext(model, resolved.prompt?.stored.numVirtualTokens ?? 0, longest(inputs), longest(candidates), 'candidates');
      // one input after another: a request holds at most one place in the engine's queue, so a large
      // Score neither fills the queue for everyone else nor leaves orphaned jobs behind a refusal
      const results = [];
      for (const inputIds of inputs) {
        const logProbabilities = await onEngine(() =>
          engine.score({ prompt: resolved.prompt, inputIds, candidates, signal: context.signal }),
        );
        results.push({ logProbabilities, best: logProbabilities.indexOf(Math.max(...logProbabilities)) });
      }
      return { results, servedBy: resolved.servedBy };
    },
  };
}

function authorization(context: CallContext): string | undefined {
  const value = context.metadata.get('authorization')[0];
  return typeof value === 'string' ? value : undefined;
}

function countIn(field: string, count: number): void {
  if (count < 1 || count > MAX_SCORE_ITEMS) throw invalidArgument(field, `must hold 1..${MAX_SCORE_ITEMS} entries (got ${count})`);
}

/** The engine's refusals as statuses: a full queue is RESOURCE_EXHAUSTED, bad sizes INVALID_ARGUMENT. */
function onEngine<T>(call: () => T): T {
  const translate = (err: unknown): never => {
    if (err instanceof EngineClosedError) throw unavailable(err.message);
    if (err instanceof EngineBusyError) throw resourceExhausted(`${err.message}; retry later`);
    if (err instanceof InferenceInputError) throw invalidRequest(err.message);
    throw err;
  };
  try {
    const value = call();
    return (value instanceof Promise ? value.catch(translate) : value) as T;
  } catch (err) {
    return translate(err);
  }
}
