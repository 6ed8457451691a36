import { registryModule } from './registry-module.js';
import type { ServerModule } from './server-module.js';
import { sweeperModule, type SweeperOptions } from './sweeper-module.js';

export interface AllInOneOptions {
  sweeper?: SweeperOptions;
  /** Byte budget of the registry's prompt cache. */
  cacheBytes?: number;
  /** Told every prompt cache lookup (metrics). */
  onCacheLookup?: (result: 'hit' | 'miss') => void;
}

/** The modules `ptune serve` runs. Components that belong in the all-in-one server add themselves here. */
export function allInOneModules(options: AllInOneOptions = {}): ServerModule[] {
  return [registryModule({ cacheBytes: options.cacheBytes, onCacheLookup: options.onCacheLookup }), sweeperModule(options.sweeper)];
}
