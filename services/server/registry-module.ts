import { createPromptRegistry, type PromptRegistryOptions } from '../registry/index.js';
import type { ServerModule } from './server-module.js';

/** The PromptRegistryService over the server's database and blob store. */
export function registryModule(options: Omit<PromptRegistryOptions, 'prisma' | 'blobs'> = {}): ServerModule {
  return {
    name: 'registry',
    create: ({ prisma, blobs }) => ({ services: [createPromptRegistry({ ...options, prisma, blobs }).service] }),
  };
}
