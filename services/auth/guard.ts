/**
 * The access guard: wraps a service implementation so that every call is authenticated, checked
 * against ACCESS_RULES with the decoded request (for client-streaming calls: the stream's first
 * message), held to its limits, and recorded in the audit log: a write's row is written before it
 * runs, completed when it succeeded and removed when it failed (see audit-log.ts). It wraps
 * handlers rather than using the adapter's interceptor hook because namespaces come from the
 * request, which interceptors do not see.
 */
import { create, fromBinary, type DescMessage, type DescMethod, type Message, type MessageInitShape } from '@bufbuild/protobuf';
import type { Logger } from 'pino';
import type { Limits } from '../config/index.js';
import { invalidRequest, permissionDenied, resourceExhausted, unavailable } from '../domain/index.js';
import { methodPath, PreEncoded, type CallContext, type ServiceImplementation } from '../grpc/index.js';
import type { PrismaClient } from '../storage/index.js';
import { ACCESS_RULES } from './access-rules.js';
import { completeAudit, discardAudit, startAudit } from './audit-log.js';
import type { Authenticate } from './authenticate.js';
import { bindPrincipal, coversNamespace, LOCAL_PRINCIPAL, type Principal } from './principal.js';
import { roleCovers } from './roles.js';
import type { AnyRule, ScopeLookup } from './rule.js';
import { createScopeLookup } from './scope-lookup.js';

export interface GuardOptions {
  readonly prisma: PrismaClient;
  /** undefined: no authentication (every call acts as LOCAL_PRINCIPAL; limits and audit still apply) */
  readonly authenticate?: Authenticate;
  readonly limits: Limits;
  readonly logger: Pick<Logger, 'error'>;
}

type Handler = (input: unknown, context: CallContext) => unknown;

export type Guard = (implementation: ServiceImplementation) => ServiceImplementation;

export function createGuard(options: GuardOptions): Guard {
  const lookup = createScopeLookup(options.prisma);
  return (implementation) => ({
    service: implementation.service,
    handlers: Object.fromEntries(
      implementation.service.methods.map((method) => {
        const rule = ACCESS_RULES.get(methodPath(method));
        if (rule === undefined) throw new Error(`${methodPath(method)} has no access rule: add it to services/auth/access-rules.ts`);
        return [method.localName, guardMethod(method, implementation.handlers[method.localName] as Handler, rule, options, lookup)];
      }),
    ),
  });
}

function guardMethod(method: DescMethod, handler: Handler, rule: AnyRule, options: GuardOptions, lookup: ScopeLookup): Handler {
  const admit = async (request: Message | undefined, context: CallContext): Promise<Admission> => {
    const principal = options.authenticate === undefined ? LOCAL_PRINCIPAL : await options.authenticate(context.metadata);
    const admission = await authorize(method, rule, request, principal, lookup);
    if (request !== undefined) await rule.limits?.(request, { limits: options.limits, lookup, namespaces: admission.namespaces });
    if (request !== undefined && options.authenticate !== undefined) rule.stampActor?.(request, `token:${principal.actor}`);
    bindPrincipal(context, principal);
    return admission;
  };
  /**
   * Runs an admitted call: an audited write gets its row before it runs (a write that cannot be
   * audited does not run), completed with what the reply says after it succeeded, removed after it
   * failed; then the reply is filtered for callers who see only their namespaces.
   */
  const run = async (admission: Admission, request: Message | undefined, call: () => Promise<unknown>): Promise<Message | PreEncoded> => {
    // an empty client stream has nothing to record (the handler refuses it)
    const audited = request !== undefined && rule.audit !== undefined ? { audit: rule.audit, request } : undefined;
    let auditId: bigint | undefined;
    if (audited !== undefined) {
      const { audit } = audited;
      const entry = {
        actor: admission.principal.actor,
        namespace: admission.namespaces[0] ?? admission.principal.namespace,
        action: audit.action,
        target: audit.target(audited.request, create(method.output)),
      };
      // requests reach this point validated (services/grpc/request-check.ts), so a failure here is the
      // database's, and retrying is right; its cause goes to the log, never to the client
      auditId = await startAudit(options.prisma, entry).catch((err: unknown) => {
        options.logger.error({ err, audit: entry }, 'audit row could not be written');
        throw unavailable(`the audit log cannot be written, so ${audit.action} was not run; retry later`);
      });
    }
    let value: unknown;
    try {
      value = await call();
    } catch (err) {
      if (auditId !== undefined) {
        const id = auditId;
        await discardAudit(options.prisma, id).catch((discardErr: unknown) =>
          options.logger.error({ err: discardErr, auditId: String(id) }, 'could not remove the audit row of a failed write'),
        );
      }
      throw err;
    }
    // a reply already in wire form (GetPrompt's hot path) goes out as it is unless it must be filtered or audited
    if (value instanceof PreEncoded && rule.scope.kind !== 'caller' && audited === undefined) return value;
    let reply =
      value instanceof PreEncoded ? fromBinary(method.output, value.bytes) : create(method.output, value as MessageInitShape<DescMessage>);
    if (rule.scope.kind === 'caller') reply = rule.scope.filterReply(reply, (namespace) => coversNamespace(admission.principal, namespace));
    if (audited !== undefined && auditId !== undefined) {
      const { audit } = audited;
      const done = {
        target: audit.target(audited.request, reply),
        details: withoutUndefined(audit.details?.(audited.request, reply) ?? {}),
      };
      const id = auditId;
      // The write succeeded; its row stays "started" if this fails, which is logged, not a failed call.
      await completeAudit(options.prisma, id, done).catch((err: unknown) =>
        options.logger.error({ err, auditId: String(id), audit: done }, 'audit completion failed'),
      );
    }
    return reply;
  };

  switch (method.methodKind) {
    case 'unary':
      return async (request, context) => {
        const admission = await admit(request as Message, context);
        return run(admission, request as Message, () => Promise.resolve(handler(request, context)));
      };
    case 'server_streaming':
      return async function* (request: unknown, context: CallContext) {
        await admit(request as Message, context);
        yield* handler(request, context) as AsyncIterable<unknown>;
      };
    case 'client_streaming':
      return async (requests, context) => {
        const { first, all } = await peek(requests as AsyncIterable<Message>);
        const admission = await admit(first, context);
        return run(admission, first, () => Promise.resolve(handler(capped(all, rule, options.limits), context)));
      };
    case 'bidi_streaming':
      return async function* (requests: unknown, context: CallContext) {
        const { first, all } = await peek(requests as AsyncIterable<Message>);
        await admit(first, context);
        yield* handler(all, context) as AsyncIterable<unknown>;
      };
  }
}

interface Admission {
  readonly principal: Principal;
  /** the namespaces the call touches ([] for global and worker calls) */
  readonly namespaces: readonly string[];
}

async function authorize(
  method: DescMethod,
  rule: AnyRule,
  request: Message | undefined,
  principal: Principal,
  lookup: ScopeLookup,
): Promise<Admission> {
  const path = methodPath(method);
  const needed = typeof rule.role === 'function' ? (request === undefined ? 'reader' : rule.role(request)) : rule.role;
  // without authentication (loopback only) every local process may call every RPC, the worker protocol included
  if (principal !== LOCAL_PRINCIPAL && !roleCovers(principal.role, needed)) {
    throw permissionDenied(
      `${path} needs role ${needed}${needed === 'worker' ? '' : ' or higher'}; token ${principal.actor} has role ${principal.role}`,
    );
  }
  const scope = rule.scope;
  let namespaces: readonly string[] = [];
  if (scope.kind === 'namespaces') {
    if (request === undefined) throw invalidRequest(`${path}: the request stream is empty; send the header first`);
    namespaces = scope.of(request);
    if (namespaces.length === 0 || namespaces.includes('')) {
      throw invalidRequest(`${path}: the request names no namespace (a task reference with a namespace is required)`);
    }
  } else if (scope.kind === 'lookup' && request !== undefined) {
    const namespace = await scope.of(request, lookup);
    namespaces = namespace === undefined ? [] : [namespace];
  }
  for (const namespace of namespaces) {
    if (!coversNamespace(principal, namespace)) {
      throw permissionDenied(`${path}: token ${principal.actor} is scoped to namespace ${principal.namespace}, not ${namespace}`);
    }
  }
  return { principal, namespaces };
}

/** The stream, failing with RESOURCE_EXHAUSTED once its payload passes the rule's cap. */
async function* capped(messages: AsyncIterable<Message>, rule: AnyRule, limits: Limits): AsyncGenerator<Message> {
  const cap = rule.streamCap;
  if (cap === undefined) return yield* messages;
  const max = cap.max(limits);
  let total = 0;
  for await (const message of messages) {
    total += cap.bytes(message);
    if (total > max) throw resourceExhausted(`${cap.what}: the stream carried more than the limit of ${max} bytes`);
    yield message;
  }
}

/** The first message of a request stream, and the whole stream again (first included). */
async function peek(requests: AsyncIterable<Message>): Promise<{ first: Message | undefined; all: AsyncIterable<Message> }> {
  const iterator = requests[Symbol.asyncIterator]();
  const head = await iterator.next();
  async function* all(): AsyncGenerator<Message> {
    if (head.done === true) return;
    yield head.value;
    for (let next = await iterator.next(); next.done !== true; next = await iterator.next()) yield next.value;
  }
  return { first: head.done === true ? undefined : head.value, all: all() };
}

function withoutUndefined(details: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(details).filter(([, value]) => value !== undefined));
}
