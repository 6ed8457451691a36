/**
 * Where `ptune tokens` and `ptune audit` act: through a server's AccessService (default, with the
 * caller's own admin token), or directly on the database with --data-dir / --database-url (the
 * bootstrap route: whoever can open the database is trusted, e.g. to create the first admin token).
 */
import { timestampDate } from '@bufbuild/protobuf/wkt';
import {
  listAudit,
  listTokens,
  createToken,
  recordAudit,
  registerToken,
  revokeToken,
  TokenConflictError,
  TokenInputError,
  type AuditRecord,
  type Role,
  type TokenRecord,
} from '../../auth/index.js';
import { TokenRole, type ApiToken } from '../../gen/ptune/v1/access_pb.js';
import type { PrismaClient } from '../../storage/index.js';
import type { AccessClient } from '../../client/index.js';
import { withClient } from './registry/client.js';

export interface AccessTarget {
  server: string;
  dataDir?: string;
  databaseUrl?: string;
}

export interface AccessBackend {
  createToken(namespace: string, role: Role, description: string): Promise<{ token: TokenRecord; text: string }>;
  /** Stores a token generated elsewhere; `source` names where its text came from, for errors. */
  registerToken(
    text: string,
    source: string,
    namespace: string,
    role: Role,
    description: string,
  ): Promise<{ token: TokenRecord; created: boolean }>;
  listTokens(namespace: string | undefined, includeRevoked: boolean): Promise<TokenRecord[]>;
  revokeToken(id: string): Promise<TokenRecord>;
  listAudit(namespace: string, limit: number): Promise<AuditRecord[]>;
}

/** Runs `body` against the chosen backend; failures become "STATUS: message" errors. */
export async function withAccessBackend<T>(target: AccessTarget, body: (backend: AccessBackend) => Promise<T>): Promise<T> {
  if (target.dataDir !== undefined || target.databaseUrl !== undefined) {
    // loaded here only: Prisma and PGlite cost most of a second, and the server route needs neither
    const { openDatabase } = await import('../../storage/index.js');
    const database = await openDatabase({
      url: target.databaseUrl,
      dataDir: target.dataDir,
      migrate: target.databaseUrl === undefined ? undefined : false,
    });
    try {
      return await body(databaseBackend(database.prisma));
    } catch (err) {
      if (err instanceof TokenInputError) throw new Error(`INVALID_ARGUMENT: ${err.message}`, { cause: err });
      if (err instanceof TokenConflictError) throw new Error(`ALREADY_EXISTS: ${err.message}`, { cause: err });
      throw err;
    } finally {
      await database.close();
    }
  }
  return withClient(target, (client) => body(serverBackend(client.access)));
}

/** Actor of changes made directly on the database. */
const LOCAL_ACTOR = 'local';

function databaseBackend(prisma: PrismaClient): AccessBackend {
  return {
    async createToken(namespace, role, description) {
      const created = await createToken(prisma, { namespace, role, description, createdBy: LOCAL_ACTOR });
      await recordAudit(prisma, {
        actor: LOCAL_ACTOR,
        namespace,
        action: 'token.create',
        target: created.token.id,
        details: { role, via: 'database' },
      });
      return created;
    },
    async registerToken(text, source, namespace, role, description) {
      const registered = await registerToken(prisma, { text, source, namespace, role, description, createdBy: LOCAL_ACTOR });
      if (registered.created) {
        await recordAudit(prisma, {
          actor: LOCAL_ACTOR,
          namespace,
          action: 'token.create',
          target: registered.token.id,
          details: { role, via: 'database', registered: true },
        });
      }
      return registered;
    },
    listTokens: (namespace, includeRevoked) => listTokens(prisma, { namespace, includeRevoked }),
    async revokeToken(id) {
      const token = await revokeToken(prisma, id);
      if (token === null) throw new Error(`NOT_FOUND: token ${JSON.stringify(id)} does not exist`);
      await recordAudit(prisma, {
        actor: LOCAL_ACTOR,
        namespace: token.namespace,
        action: 'token.revoke',
        target: token.id,
        details: { via: 'database' },
      });
      return token;
    },
    listAudit: async (namespace, limit) => (await listAudit(prisma, { namespace, limit })).events,
  };
}

const ROLE_OF: Record<Role, TokenRole> = {
  reader: TokenRole.READER,
  trainer: TokenRole.TRAINER,
  admin: TokenRole.ADMIN,
  worker: TokenRole.WORKER,
};

function serverBackend(client: AccessClient): AccessBackend {
  return {
    async createToken(namespace, role, description) {
      const reply = await client.createToken({ namespace, role: ROLE_OF[role], description });
      return { token: fromWire(reply.token), text: reply.secret };
    },
    registerToken() {
      return Promise.reject(
        new Error(
          '--from-env works only directly on the database (--database-url or --data-dir): a server mints the secrets of the tokens it creates',
        ),
      );
    },
    async listTokens(namespace, includeRevoked) {
      if (namespace === undefined) throw new Error('--namespace is required when talking to a server');
      return (await client.listTokens({ namespace, includeRevoked })).tokens.map(fromWire);
    },
    revokeToken: async (id) => fromWire((await client.revokeToken({ id })).token),
    async listAudit(namespace, limit) {
      const reply = await client.listAuditEvents({ namespace, pageSize: limit });
      return reply.events.map((e) => ({
        id: e.id,
        at: e.at ? timestampDate(e.at) : new Date(0),
        actor: e.actor,
        namespace: e.namespace,
        action: e.action,
        target: e.target,
        details: JSON.parse(e.detailsJson || '{}') as Record<string, unknown>,
        outcome: e.outcome === 'started' ? ('started' as const) : ('ok' as const),
      }));
    },
  };
}

function fromWire(token: ApiToken | undefined): TokenRecord {
  if (token === undefined) throw new Error('the server answered without a token');
  const role = (Object.keys(ROLE_OF) as Role[]).find((name) => ROLE_OF[name] === token.role) ?? 'reader';
  const date = (t: typeof token.createdAt): Date | null => (t === undefined ? null : timestampDate(t));
  return {
    id: token.id,
    namespace: token.namespace,
    role,
    description: token.description,
    createdBy: token.createdBy,
    createdAt: date(token.createdAt) ?? new Date(0),
    revokedAt: date(token.revokedAt),
    lastUsedAt: date(token.lastUsedAt),
  };
}
