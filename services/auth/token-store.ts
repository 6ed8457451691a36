/** API tokens in the database: create, list, revoke, and resolve a presented token to a Principal. */
import type { PrismaClient } from '../storage/index.js';
import type { Principal } from './principal.js';
import { ALL_NAMESPACES, checkNamespace, type Role } from './roles.js';
import { hashSecret, newToken, parseToken, secretMatches } from './token-secret.js';

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

/** A refused token input: `field` is what to fix (namespace, role, description, or where a token text came from). */
export class TokenInputError extends Error {
  override readonly name = 'TokenInputError';

  constructor(
    readonly field: string,
    readonly problem: string,
  ) {
    super(`${field}: ${problem}`);
  }
}

/** A token id that already exists with another secret, role, namespace, or revoked. */
export class TokenConflictError extends Error {
  override readonly name = 'TokenConflictError';
}

const PUBLIC_FIELDS = {
  id: true,
  namespace: true,
  role: true,
  description: true,
  createdBy: true,
  createdAt: true,
  revokedAt: true,
  lastUsedAt: true,
} as const;

/** Creates a token; `text` (ptk_<id>_<secret>) exists only in the result. */
export async function createToken(prisma: PrismaClient, input: CreateTokenInput): Promise<{ token: TokenRecord; text: string }> {
  const description = checkTokenInput(input);
  const fresh = newToken();
  const token = await prisma.apiToken.create({
    data: {
      id: fresh.id,
      namespace: input.namespace,
      role: input.role,
      secretHash: fresh.secretHash,
      description,
      createdBy: input.createdBy,
    },
    select: PUBLIC_FIELDS,
  });
  return { token, text: fresh.text };
}

export interface RegisterTokenInput extends CreateTokenInput {
  /** the full token text ptk_<id>_<secret>, generated elsewhere (e.g. a Kubernetes Secret) */
  readonly text: string;
  /** where the text came from, for error messages (never the text itself) */
  readonly source: string;
}

/**
 * Stores a token generated elsewhere (only the hash of its secret). Idempotent: when the id already
 * exists with the same secret, role and namespace and is not revoked, nothing changes and
 * `created` is false; any other existing row with that id is a TokenConflictError.
 */
export async function registerToken(prisma: PrismaClient, input: RegisterTokenInput): Promise<{ token: TokenRecord; created: boolean }> {
  const description = checkTokenInput(input);
  const parts = parseToken(input.text.trim());
  if (parts === undefined) {
    throw new TokenInputError(
      input.source,
      `not a well-formed token (expected ptk_<12 characters a-z0-9>_<43 characters base64url>, ${input.text.trim().length} characters given), e.g. the output of \`ptune tokens create\``,
    );
  }
  // ON CONFLICT DO NOTHING, then read back: two concurrent registrations cannot both fail.
  const { count } = await prisma.apiToken.createMany({
    data: [
      {
        id: parts.id,
        namespace: input.namespace,
        role: input.role,
        secretHash: hashSecret(parts.secret),
        description,
        createdBy: input.createdBy,
      },
    ],
    skipDuplicates: true,
  });
  const row = await prisma.apiToken.findUnique({ where: { id: parts.id }, select: { ...PUBLIC_FIELDS, secretHash: true } });
  // secret_hash is unique too: the same secret under another id is skipped as well.
  if (row === null)
    throw new TokenConflictError(
      `${input.source}: the secret of token ${parts.id} is already stored under another token id; generate a new token`,
    );
  const { secretHash, ...token } = row;
  if (count === 1) return { token, created: true };
  const conflict = !secretMatches(parts.secret, secretHash)
    ? 'with a different secret'
    : row.role !== input.role || row.namespace !== input.namespace
      ? `as role ${row.role} in namespace ${JSON.stringify(row.namespace)}`
      : row.revokedAt !== null
        ? `but was revoked at ${row.revokedAt.toISOString()}`
        : undefined;
  if (conflict !== undefined) {
    throw new TokenConflictError(
      `${input.source}: token ${parts.id} already exists ${conflict}; generate a new token (another id) or revoke and replace the old one`,
    );
  }
  return { token, created: false };
}

/** Checks namespace, role and description of a new token; returns the description. */
function checkTokenInput(input: CreateTokenInput): string {
  const problem = checkNamespace(input.namespace);
  if (problem !== undefined) throw new TokenInputError('namespace', problem);
  if (input.role === 'worker' && input.namespace !== ALL_NAMESPACES) {
    throw new TokenInputError(
      'role',
      `worker tokens serve every namespace, so their namespace must be "${ALL_NAMESPACES}" (got ${JSON.stringify(input.namespace)})`,
    );
  }
  const description = input.description ?? '';
  if (description.length > 200) throw new TokenInputError('description', `is ${description.length} characters; at most 200`);
  return description;
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
