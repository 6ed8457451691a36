/** API tokens in the database: create, list, revoke, and resolve a presented token to a Principal. */
import type { PrismaClient } from '../storage/index.js';
import type { Principal } from './principal.js';
import { ALL_NAMESPACES, checkNamespace, type Role } from './roles.js';
import { newToken, parseToken, secretMatches } from './token-secret.js';

export interface TokenRecord {
  readonly id: string;
  readonly namespace: string;
  readonly role: Role;
  readonly description: string;
  readonly createdBy: string;
  readonly createdAt: Date;
  readonly revokedAt: Date | null;
  readonly lastUsedAt: Date | null;
}

export interface CreateTokenInput {
  readonly namespace: string;
  readonly role: Role;
  readonly description?: string;
  /** actor creating it (a token id, or "local") */
  readonly createdBy: string;
}

export class TokenInputError extends Error {
  override readonly name = 'TokenInputError';
}

const PUBLIC_FIELDS = { id: true, namespace: true, role: true, description: true, createdBy: true, createdAt: true, revokedAt: true, lastUsedAt: true } as const;

/** Creates a token; `text` (ptk_<id>_<secret>) exists only in the result. */
export async function createToken(prisma: PrismaClient, input: CreateTokenInput): Promise<{ token: TokenRecord; text: string }> {
  const problem = checkNamespace(input.namespace);
  if (problem !== undefined) throw new TokenInputError(problem);
  if (input.role === 'worker' && input.namespace !== ALL_NAMESPACES) {
    throw new TokenInputError(`role worker: worker tokens serve every namespace, so their namespace must be "${ALL_NAMESPACES}" (got ${JSON.stringify(input.namespace)})`);
  }
  const description = input.description ?? '';
  if (description.length > 200) throw new TokenInputError(`description is ${description.length} characters; at most 200`);
  const fresh = newToken();
  const token = await prisma.apiToken.create({
    data: { id: fresh.id, namespace: input.namespace, role: input.role, secretHash: fresh.secretHash, description, createdBy: input.createdBy },
    select: PUBLIC_FIELDS,
  });
  return { token, text: fresh.text };
}

/** Tokens of a namespace (all namespaces when undefined), newest first. */
export async function listTokens(prisma: PrismaClient, options: { namespace?: string; includeRevoked?: boolean }): Promise<TokenRecord[]> {
  return prisma.apiToken.findMany({
    where: { namespace: options.namespace, ...(options.includeRevoked ? {} : { revokedAt: null }) },
    orderBy: [{ createdAt: 'desc' }, { id: 'asc' }],
    select: PUBLIC_FIELDS,
  });
}

export async function findToken(prisma: PrismaClient, id: string): Promise<TokenRecord | null> {
  return prisma.apiToken.findUnique({ where: { id }, select: PUBLIC_FIELDS });
}

/** Marks a token revoked (idempotent: a revoked token keeps its first revocation time). */
export async function revokeToken(prisma: PrismaClient, id: string): Promise<TokenRecord | null> {
  await prisma.apiToken.updateMany({ where: { id, revokedAt: null }, data: { revokedAt: new Date() } });
  return findToken(prisma, id);
}

const LAST_USED_RESOLUTION_MS = 60_000;

/**
 * The principal of a presented token text, or a reason it is refused. `lastUsedAt` is refreshed at
 * most once a minute per token, without waiting for it.
 */
export async function resolveToken(prisma: PrismaClient, text: string): Promise<Principal | { refused: string }> {
  const parts = parseToken(text);
  if (parts === undefined) return { refused: 'malformed token (expected ptk_<id>_<secret>)' };
  const row = await prisma.apiToken.findUnique({ where: { id: parts.id } });
  // The hash is compared even for an unknown id, so both paths take the same time.
  const matches = secretMatches(parts.secret, row?.secretHash ?? '0'.repeat(64));
  if (row === null || !matches) return { refused: 'unknown token' };
  if (row.revokedAt !== null) return { refused: `token ${row.id} was revoked at ${row.revokedAt.toISOString()}` };
  const now = Date.now();
  if (row.lastUsedAt === null || now - row.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
    prisma.apiToken.update({ where: { id: row.id }, data: { lastUsedAt: new Date(now) } }).catch(() => undefined);
  }
  return { actor: row.id, namespace: row.namespace, role: row.role };
}
