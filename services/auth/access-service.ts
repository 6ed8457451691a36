/** AccessService: API tokens and the audit log over gRPC (served behind the access guard). */
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { AccessService, TokenRole, type ApiTokenSchema, type AuditEventSchema } from '../gen/ptune/v1/access_pb.js';
import { decodePageToken, encodePageToken, invalidArgument, notFound, pageSize } from '../domain/index.js';
import { implement, type ServiceImplementation } from '../grpc/index.js';
import type { PrismaClient } from '../storage/index.js';
import { listAudit, type AuditRecord } from './audit-log.js';
import { callPrincipal } from './principal.js';
import type { Role } from './roles.js';
import { createToken, listTokens, revokeToken, TokenInputError, type TokenRecord } from './token-store.js';

export function createAccessService(prisma: PrismaClient): ServiceImplementation {
  return implement(AccessService, {
    async createToken(request, context) {
      const role = roleFromWire(request.role);
      try {
        const created = await createToken(prisma, {
          namespace: request.namespace,
          role,
          description: request.description,
          createdBy: callPrincipal(context).actor,
        });
        return { token: tokenToWire(created.token), secret: created.text };
      } catch (err) {
        throw err instanceof TokenInputError ? invalidArgument(err.field, err.problem) : err;
      }
    },
    async listTokens(request) {
      return {
        tokens: (await listTokens(prisma, { namespace: request.namespace, includeRevoked: request.includeRevoked })).map(tokenToWire),
      };
    },
    async revokeToken(request) {
      const token = await revokeToken(prisma, request.id);
      if (token === null) throw notFound(`token ${JSON.stringify(request.id)} does not exist`, { field: 'id' });
      return { token: tokenToWire(token) };
    },
    whoAmI(_request, context) {
      const caller = callPrincipal(context);
      return { actor: caller.actor, namespace: caller.namespace, role: roleToWire(caller.role) };
    },
    async listAuditEvents(request) {
      const scope = `audit:${request.namespace}`;
      const before = decodePageToken(request.pageToken, scope, isAuditKey)?.[0] as string | undefined;
      const page = await listAudit(prisma, {
        namespace: request.namespace,
        limit: pageSize(request.pageSize),
        before: before === undefined ? undefined : BigInt(before),
      });
      return {
        events: page.events.map(auditEventToWire),
        nextPageToken: page.nextBefore === undefined ? '' : encodePageToken(scope, [String(page.nextBefore)]),
      };
    },
  });
}

const WIRE_ROLES: ReadonlyMap<TokenRole, Role> = new Map([
  [TokenRole.READER, 'reader'],
  [TokenRole.TRAINER, 'trainer'],
  [TokenRole.ADMIN, 'admin'],
  [TokenRole.WORKER, 'worker'],
]);

export function roleFromWire(role: TokenRole): Role {
  const name = WIRE_ROLES.get(role);
  if (name === undefined) throw invalidArgument('role', `${role} is not one of reader, trainer, admin, worker`);
  return name;
}

export function roleToWire(role: Role): TokenRole {
  return [...WIRE_ROLES].find(([, name]) => name === role)?.[0] ?? TokenRole.UNSPECIFIED;
}

/** A token as the wire's ApiToken (also what `ptune tokens --json` prints). */
export function tokenToWire(token: TokenRecord): MessageInitShape<typeof ApiTokenSchema> {
  return {
    id: token.id,
    namespace: token.namespace,
    role: roleToWire(token.role),
    description: token.description,
    createdBy: token.createdBy,
    createdAt: timestampFromDate(token.createdAt),
    revokedAt: token.revokedAt === null ? undefined : timestampFromDate(token.revokedAt),
    lastUsedAt: token.lastUsedAt === null ? undefined : timestampFromDate(token.lastUsedAt),
  };
}

/** An audit row as the wire's AuditEvent (also what `ptune audit --json` prints). */
export function auditEventToWire(e: AuditRecord): MessageInitShape<typeof AuditEventSchema> {
  return {
    id: e.id,
    at: timestampFromDate(e.at),
    actor: e.actor,
    namespace: e.namespace,
    action: e.action,
    target: e.target,
    detailsJson: JSON.stringify(e.details ?? {}),
    outcome: e.outcome,
  };
}

/** An audit page's key: the id of its last event (a positive bigint, as a decimal string). */
const MAX_AUDIT_ID = 2n ** 63n - 1n;
function isAuditKey(key: unknown[]): boolean {
  return key.length === 1 && typeof key[0] === 'string' && /^[1-9][0-9]{0,18}$/.test(key[0]) && BigInt(key[0]) <= MAX_AUDIT_ID;
}
