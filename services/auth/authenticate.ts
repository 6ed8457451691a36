import { timingSafeEqual } from 'node:crypto';
import type * as grpc from '@grpc/grpc-js';
import { unauthenticated } from '../domain/index.js';
import type { PrismaClient } from '../storage/index.js';
import type { Principal } from './principal.js';
import { ALL_NAMESPACES } from './roles.js';
import { bearerToken, hashSecret, newToken } from './token-secret.js';
import { resolveToken } from './token-store.js';

/** Resolves a call's `authorization` metadata to a Principal, or throws UNAUTHENTICATED. */
export type Authenticate = (metadata: grpc.Metadata) => Promise<Principal>;

export interface TokenAuthenticatorOptions {
  /**
   * How long a resolved token is remembered (saves a database round trip per call). A revocation
   * takes effect within this time. Default 5 s; 0 disables the cache.
   */
  readonly cacheMs?: number;
  /** Tokens that exist only in this process (e.g. for in-process workers): never stored anywhere. */
  readonly processTokens?: readonly ProcessToken[];
}

/** A credential minted by and valid only inside one server process. */
export interface ProcessToken {
  readonly text: string;
  readonly principal: Principal;
}

/** A worker credential for workers running inside the server process (actor "in-process-worker"). */
export function mintProcessWorkerToken(): ProcessToken {
  return { text: newToken().text, principal: { actor: 'in-process-worker', namespace: ALL_NAMESPACES, role: 'worker' } };
}

const MAX_CACHED = 10_000;

export function createTokenAuthenticator(prisma: PrismaClient, options: TokenAuthenticatorOptions = {}): Authenticate {
  const cacheMs = options.cacheMs ?? 5_000;
  const cache = new Map<string, { principal: Principal; until: number }>();
  return async (metadata) => {
    const values = metadata.get('authorization');
    if (values.length === 0)
      throw unauthenticated('no token: send `authorization: Bearer ptk_…` metadata (CLI: PTUNE_TOKEN or the config file)');
    // Node's HTTP/2 server already drops every value but the first (README: Tokens); kept for other transports
    if (values.length > 1) throw unauthenticated('more than one authorization header');
    const text = bearerToken(typeof values[0] === 'string' ? values[0] : undefined);
    if (text === undefined) throw unauthenticated('authorization metadata must be "Bearer ptk_<id>_<secret>"');
    const local = options.processTokens?.find((candidate) => sameText(candidate.text, text));
    if (local !== undefined) return local.principal;
    // keyed by digest, so looking a secret up takes no time that depends on its characters
    const key = hashSecret(text);
    const cached = cache.get(key);
    if (cached !== undefined && cached.until > Date.now()) return cached.principal;
    const resolved = await resolveToken(prisma, text);
    if ('refused' in resolved) throw unauthenticated(resolved.refused);
    if (cacheMs > 0) {
      if (cache.size >= MAX_CACHED) cache.clear();
      cache.set(key, { principal: resolved, until: Date.now() + cacheMs });
    }
    return resolved;
  };
}

/** Constant-time equality of two token texts (compared as sha256 digests, so lengths may differ). */
function sameText(a: string, b: string): boolean {
  return timingSafeEqual(Buffer.from(hashSecret(a), 'hex'), Buffer.from(hashSecret(b), 'hex'));
}
