/**
 * Roles. Within a namespace reader < trainer < admin (each can do what the one before it can);
 * worker stands apart: it opens the worker protocol and nothing else.
 */
export const ROLES = ['reader', 'trainer', 'admin', 'worker'] as const;
export type Role = (typeof ROLES)[number];
export type NamespaceRole = Exclude<Role, 'worker'>;

const RANK: Readonly<Record<NamespaceRole, number>> = { reader: 1, trainer: 2, admin: 3 };

/** Whether a token of role `held` may do what needs role `needed`. */
export function roleCovers(held: Role, needed: Role): boolean {
  if (held === 'worker' || needed === 'worker') return held === needed;
  return RANK[held] >= RANK[needed];
}

export function parseRole(text: string): Role {
  if ((ROLES as readonly string[]).includes(text)) return text as Role;
  throw new Error(`role ${JSON.stringify(text)}: expected one of ${ROLES.join(', ')}`);
}

/** A token whose namespace is ALL_NAMESPACES holds its role in every namespace. */
export const ALL_NAMESPACES = '*';

const NAMESPACE = /^[a-z0-9_-]{1,63}$/;

/** Namespaces follow the registry's naming rule (1..63 of a-z 0-9 - _), or are "*". */
export function checkNamespace(namespace: string): string | undefined {
  if (namespace === ALL_NAMESPACES || NAMESPACE.test(namespace)) return undefined;
  return `namespace ${JSON.stringify(namespace)} must be "*" or 1..63 lowercase letters, digits, '-' or '_' (as task namespaces)`;
}
