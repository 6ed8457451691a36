import type { CallContext } from '../grpc/index.js';
import type { Role } from './roles.js';
import { ALL_NAMESPACES } from './roles.js';

/** Who is calling: the token's id, namespace and role. */
export interface Principal {
  /** token id, or "local" on a server running without authentication */
  readonly actor: string;
  readonly namespace: string;
  readonly role: Role;
}

/** The caller of a server that runs without authentication (loopback only). */
export const LOCAL_PRINCIPAL: Principal = { actor: 'local', namespace: ALL_NAMESPACES, role: 'admin' };

export function coversNamespace(principal: Principal, namespace: string): boolean {
  return principal.namespace === ALL_NAMESPACES || principal.namespace === namespace;
}

const principals = new WeakMap<CallContext, Principal>();

/** Set by the guard for each call it lets through; handlers that need the caller read it here. */
export function bindPrincipal(context: CallContext, principal: Principal): void {
  principals.set(context, principal);
}

export function callPrincipal(context: CallContext): Principal {
  const principal = principals.get(context);
  if (principal === undefined) throw new Error(`${context.methodPath}: no principal (the service is not behind the access guard)`);
  return principal;
}
