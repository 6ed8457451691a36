import { ALL_NAMESPACES, type ProcessToken } from '../auth/index.js';
import { newToken } from '../auth/token-secret.js';

/**
 * The quick-start's credential when the server requires tokens: valid only inside this server
 * process (like the in-process workers' token); admin, because registering a base model needs it.
 */
export function mintQuickstartToken(): ProcessToken {
  return { text: newToken().text, principal: { actor: 'quickstart', namespace: ALL_NAMESPACES, role: 'admin' } };
}
