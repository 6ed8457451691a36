import { createPromptRegistry, type PromptRegistryOptions } from '../registry/index.js';
import type { ServerModule } from './server-module.js';

/** The PromptRegistryService over the server's database and blob store. */
export function registryModule(options: Omit<PromptRegistryOptions, 'prisma' | 'blobs' | 'hotReadUrl'> = {}): ServerModule {
  return {
    name: 'registry',
    create({ database, blobs }) {
      const registry = createPromptRegistry({ ...options, prisma: database.prisma, blobs, hotReadUrl: database.embedded ? undefined : database.url });
      return { services: [registry.service], stop: () => registry.close() };
    },
  };
}
