export { createPromptRegistry, type PromptRegistry, type PromptRegistryOptions } from './registry-service.js';
export { createPromptVersion, type PromptPayload, type RegistryStores } from './create-version.js';
export { PromptCache, type CachedPayload } from './prompt-cache.js';
export { PROMPT_TENSOR } from './prompt-tensor.js';
export { openPromptChanges, PromptChanges, PROMPT_CHANGES_CHANNEL, type OpenedPromptChanges, type PromptChangeSubscriber } from './prompt-changes.js';
