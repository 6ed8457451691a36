export {
  createMetrics,
  type GenerationOutcome,
  type InferenceEngineState,
  type MetricsOptions,
  type OrchestrationStateProviders,
  type PromptCacheResult,
  type PtuneMetrics,
  type TrialCounts,
} from './metrics.js';
export { rpcMetricsObserver } from './rpc-observer.js';
export { DEFAULT_METRICS_PORT, startMetricsServer, type MetricsServer, type MetricsServerOptions } from './metrics-server.js';
export { createLogger, logLevelFromEnv, withIds, type LogIds, type LogLevel, type Logger, type LoggerOptions } from './logger.js';
export { onShutdownSignals, type ShutdownOptions } from './shutdown.js';
