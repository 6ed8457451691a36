import type { ServerModule } from '../server/index.js';
import { createPromptRegistry, type PromptRegistryOptions } from './registry-service.js';

export interface RegistryModuleOptions extends Omit<PromptRegistryOptions, 'prisma' | 'blobs' | 'hotReadUrl' | 'changes'> {
  /**
   * Keep GetPrompt resolutions in memory until the server hears that their task changed (default
   * true); false resolves every call in the database.
   */
  resolutionCache?: boolean;
}

/** The PromptRegistryService over the server's database and blob store. */
export function registryModule(options: RegistryModuleOptions = {}): ServerModule {
  const { resolutionCache = true, ...registryOptions } = options;
  return {
    name: 'registry',
    create({ database, blobs, promptChanges }) {
      const registry = createPromptRegistry({
        ...registryOptions,
        prisma: database.prisma,
        blobs,
        hotReadUrl: database.embedded ? undefined : database.url,
        changes: resolutionCache ? promptChanges : undefined,
      });
      return { services: [registry.service], stop: () => registry.close() };
    },
  };
}
