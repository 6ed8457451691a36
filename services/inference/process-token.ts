import { ALL_NAMESPACES, type ProcessToken } from '../auth/index.js';
import { newToken } from '../auth/token-secret.js';

/**
 * The inference module's own credential inside `ptune serve` (valid only in that process): reader
 * of every namespace, to read its base model's metadata. Callers' requests never use it: they carry
 * their own token to the registry.
 */
export function mintInferenceToken(): ProcessToken {
  return { text: newToken().text, principal: { actor: 'in-process-inference', namespace: ALL_NAMESPACES, role: 'reader' } };
}
