/**
 * The inference server as a module of `ptune serve`: the InferenceService over the registry in the
 * same process (prompts resolved through its GetPrompt, with each caller's token) and the
 * OpenAI-compatible routes on the server's HTTP port. The base model loads on the first request, so
 * the server starts before the model is registered (the quick start registers it later).
 */
import { clientsOver, openClientTransport, type ClientTransportOptions, type RegistryClient } from '../client/index.js';
import type { EngineStats, InferenceEngineOptions, LoadedModel } from '../engine/index.js';
import type { GrpcTransport } from '../grpc/index.js';
import type { ServerModule } from '../server/index.js';
import { createInferenceService, inferenceHandlers, type InferenceObserver } from './inference-service.js';
import { openAiRoutes } from './openai-routes.js';
import { lazyRuntime, openInferenceRuntime } from './runtime.js';

export interface InferenceModuleOptions {
  /** registered name of the base model to serve */
  readonly modelName: string;
  /** loads that model (the entry point fetches it from the registry: fetchBaseModel), given the server's address */
  readonly loadModel: (address: string) => Promise<LoadedModel>;
  readonly engine?: InferenceEngineOptions;
  readonly observer?: InferenceObserver;
  /** given, once, how to read the engine's counters (undefined until the model is loaded): metrics */
  readonly onEngineStats?: (read: () => EngineStats | undefined) => void;
  /** TLS settings for calls to the server's own port (tokens are the callers') */
  readonly connection?: Pick<ClientTransportOptions, 'tls'>;
}

export function inferenceModule(options: InferenceModuleOptions): ServerModule {
  return {
    name: 'inference',
    create() {
      let address: string | undefined;
      let transport: GrpcTransport | undefined;
      let registry: RegistryClient | undefined;
      const registryClient = (): RegistryClient => {
        if (registry === undefined) throw new Error('the inference module is not started');
        return registry;
      };
      const runtime = lazyRuntime(async () => {
        if (address === undefined) throw new Error('the server is not listening yet');
        const model = await options.loadModel(address);
        return openInferenceRuntime({ model, modelName: options.modelName, registry: registryClient, engine: options.engine });
      });
      options.onEngineStats?.(() => runtime.current()?.engine.stats());
      const handlers = inferenceHandlers({ runtime: runtime.get, observer: options.observer });
      return {
        services: [createInferenceService(handlers)],
        start(listening) {
          address = listening;
          transport = openClientTransport(listening, { tls: options.connection?.tls });
          registry = clientsOver(transport).registry;
        },
        http: openAiRoutes({ modelName: async () => (await runtime.get()).modelName, registry: registryClient, handlers }),
        async stop() {
          await runtime.close();
          transport?.close();
        },
      };
    },
  };
}
