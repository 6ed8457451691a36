/**
 * Roles. Within a namespace reader < trainer < admin (each can do what the one before it can);
 * worker stands apart: it opens the worker protocol and nothing else.
 */
import { namespaceProblem } from '../domain/index.js';

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

/** Namespaces follow the task naming rule (services/domain/names.ts), or are "*". */
export const checkNamespace = (namespace: string): string | undefined => namespaceProblem(namespace, ALL_NAMESPACES);
