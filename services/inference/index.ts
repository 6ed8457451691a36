/**
 * Serving soft prompts (issue #16): the InferenceService (gRPC), the OpenAI-compatible HTTP routes,
 * and what `ptune infer` and `ptune serve` run them with.
 */
export { createInferenceService, inferenceHandlers, type InferenceObserver, type InferenceRuntime } from './inference-service.js';
export { openAiRoutes } from './openai-routes.js';
export { inferenceModule, type InferenceModuleOptions } from './server-module.js';
export { openInferenceRuntime } from './runtime.js';
export { fetchBaseModel, type FetchModelOptions } from './fetch-model.js';
export { mintInferenceToken } from './process-token.js';
