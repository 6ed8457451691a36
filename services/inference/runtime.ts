/** One base model made servable: its engine and its prompt resolver. */
import type { RegistryClient } from '../client/index.js';
import { createInferenceEngine, type InferenceEngineOptions, type LoadedModel } from '../engine/index.js';
import type { InferenceRuntime } from './inference-service.js';
import { createPromptResolver } from './prompt-resolver.js';

export interface RuntimeOptions {
  readonly model: LoadedModel;
  /** the model's registered name (prompts must name its fingerprint) */
  readonly modelName: string;
  readonly registry: () => RegistryClient;
  readonly engine?: InferenceEngineOptions;
}

export async function openInferenceRuntime(options: RuntimeOptions): Promise<InferenceRuntime> {
  const engine = await createInferenceEngine(options.model, options.engine);
  const resolver = createPromptResolver({ registry: options.registry, model: options.model, modelName: options.modelName });
  return { modelName: options.modelName, engine, resolver };
}

/**
 * A runtime opened on first use; a failed attempt is forgotten, so the next call tries again (e.g.
 * the base model was not registered yet when the server started).
 */
export function lazyRuntime(open: () => Promise<InferenceRuntime>): {
  get(): Promise<InferenceRuntime>;
  /** the runtime once opened */
  current(): InferenceRuntime | undefined;
  close(): Promise<void>;
} {
  let pending: Promise<InferenceRuntime> | undefined;
  let opened: InferenceRuntime | undefined;
  return {
    get() {
      pending ??= open().then(
        (runtime) => (opened = runtime),
        (err: unknown) => {
          pending = undefined;
          throw err;
        },
      );
      return pending;
    },
    current: () => opened,
    async close() {
      const opened = await pending?.catch(() => undefined);
      await opened?.engine.close();
    },
  };
}
