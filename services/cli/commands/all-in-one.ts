/** The composition root of `ptune serve` and `ptune coordinator`: which modules one process runs. */
import type { CoordinatorConfig } from '../../coordinator/index.js';
import { consoleModule, type ConsoleOptions } from '../../console/server-module.js';
import { coordinatorModule } from '../../coordinator/server-module.js';
import { inferenceModule, type InferenceModuleOptions } from '../../inference/index.js';
import { registryModule } from '../../registry/server-module.js';
import { sweeperModule, type ServerModule, type SweeperOptions } from '../../server/index.js';
import { inProcessWorkersModule, type InProcessWorkersOptions } from '../../worker/server-module.js';

export interface AllInOneOptions {
  sweeper?: SweeperOptions;
  /** Byte budget of the registry's prompt cache. */
  cacheBytes?: number;
  /** Keep GetPrompt resolutions until their task changes (see registryModule); default true. */
  resolutionCache?: boolean;
  /** Told every prompt cache lookup (metrics). */
  onCacheLookup?: (result: 'hit' | 'miss') => void;
  /** Training coordinator settings (lease TTL, limits, …). */
  coordinator?: Partial<CoordinatorConfig>;
  /** In-process training workers; default one, `count: 0` for coordinator only. */
  workers?: Omit<InProcessWorkersOptions, 'count'> & { count?: number };
  /** The web console (served when the server has an HTTP port): how it reaches this process's gRPC server. */
  console?: ConsoleOptions;
  /** The inference server (InferenceService + OpenAI-compatible routes) for one registered base model; default none. */
  inference?: InferenceModuleOptions;
}

/** The modules `ptune serve` runs. Components that belong in the all-in-one server add themselves here. */
export function allInOneModules(options: AllInOneOptions = {}): ServerModule[] {
  return [
    registryModule({ cacheBytes: options.cacheBytes, onCacheLookup: options.onCacheLookup, resolutionCache: options.resolutionCache }),
    coordinatorModule(options.coordinator),
    sweeperModule(options.sweeper),
    inProcessWorkersModule({ ...options.workers, count: options.workers?.count ?? 1 }),
    ...(options.inference ? [inferenceModule(options.inference)] : []),
    consoleModule(options.console),
  ];
}
