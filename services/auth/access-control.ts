/**
 * Access control for a ptune server, as a transformation of its module list: every module's
 * services go behind the guard (authentication, the rule table, limits, audit), and the
 * AccessService (tokens, audit log) is added. Without authentication, only a loopback server is
 * allowed, and it says so in its start log.
 */
import { DEFAULT_LIMITS, type Limits } from '../config/index.js';
import type { ServerContext, ServerModule } from '../server/index.js';
import type { PrismaClient } from '../storage/index.js';
import { createAccessService } from './access-service.js';
import { createTokenAuthenticator, type ProcessToken } from './authenticate.js';
import { createGuard, type Guard } from './guard.js';

export interface AccessControlOptions {
  /** Require API tokens. False is allowed only for a server bound to a loopback interface. */
  readonly authenticate: boolean;
  /** Interface the server binds (checked against `authenticate: false`). */
  readonly host: string;
  /** Default: DEFAULT_LIMITS (the entry point passes limitsFromEnv(process.env), the coordinator's too). */
  readonly limits?: Limits;
  /** How long a resolved token is cached (revocations take this long to bite); default 5 s. */
  readonly tokenCacheMs?: number;
  /** Credentials valid only in this process (see mintProcessWorkerToken). */
  readonly processTokens?: readonly ProcessToken[];
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|\[::1\]|localhost)$/;

export function isLoopback(host: string): boolean {
  return LOOPBACK.test(host);
}

/** The server's modules with every service behind the access guard, plus the AccessService. */
export function withAccessControl(modules: readonly ServerModule[], options: AccessControlOptions): ServerModule[] {
  if (!options.authenticate && !isLoopback(options.host)) {
    throw new Error(
      `refusing to serve on ${options.host} without authentication: only a loopback address (127.0.0.1, ::1) may run with auth off`,
    );
  }
  const limits = options.limits ?? DEFAULT_LIMITS;
  const guards = new WeakMap<PrismaClient, Guard>();
  const guardFor = ({ prisma, logger }: ServerContext): Guard => {
    let guard = guards.get(prisma);
    if (guard === undefined) {
      const authenticate = options.authenticate
        ? createTokenAuthenticator(prisma, { cacheMs: options.tokenCacheMs, processTokens: options.processTokens })
        : undefined;
      guard = createGuard({ prisma, authenticate, limits, logger });
      guards.set(prisma, guard);
    }
    return guard;
  };
  const accessModule: ServerModule = {
    name: 'access',
    create(context) {
      if (options.authenticate) context.logger.info('authentication on: every call needs an API token (authorization: Bearer ptk_…)');
      else
        context.logger.warn(
          `authentication OFF: bound to loopback ${options.host}, every local process may call every RPC as admin of every namespace`,
        );
      return { services: [createAccessService(context.prisma)] };
    },
  };
  const guarded = (module: ServerModule): ServerModule => ({
    name: module.name,
    async create(context) {
      const instance = await module.create(context);
      return instance.services === undefined ? instance : { ...instance, services: instance.services.map(guardFor(context)) };
    },
  });
  return [accessModule, ...modules].map(guarded);
}
