export { createPromptRegistry, type PromptRegistry, type PromptRegistryOptions } from './registry-service.js';
export { createPromptVersion, type PromptPayload, type RegistryStores } from './create-version.js';
export {
  openPromptChanges,
  PromptChanges,
  PROMPT_CHANGES_CHANNEL,
  type OpenedPromptChanges,
  type PromptChangeSubscriber,
} from './prompt-changes.js';
