/** A full ptune server (registry, training, worker protocol, access) behind the access guard, on loopback over PGlite. */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { DescMethod, DescService, MessageInitShape, DescMessage } from '@bufbuild/protobuf';
import { pino, type Logger } from 'pino';
import { createToken, withAccessControl, type ProcessToken, type Role } from '../../../services/auth/index.js';
import { DEFAULT_LIMITS, type Limits } from '../../../services/config/index.js';
import * as grpc from '@grpc/grpc-js';
import { createClient, createGrpcTransport, RpcError, type GrpcTransport, type TlsOptions } from '../../../services/grpc/index.js';
import { allInOneModules } from '../../../services/cli/commands/all-in-one.js';
import type { InferenceModuleOptions } from '../../../services/inference/index.js';
import { startServer, type RunningServer } from '../../../services/server/index.js';
import type { PrismaClient } from '../../../services/storage/index.js';

export interface SecureServer {
  readonly server: RunningServer;
  readonly prisma: PrismaClient;
  readonly transport: GrpcTransport;
  /** Creates a token directly in the database and returns its text. */
  token(namespace: string, role: Role): Promise<string>;
  /** Row count of every table and the blob list: equal snapshots mean nothing was stored. */
  snapshot(): Promise<string>;
  close(): Promise<void>;
}

const silent = pino({ level: 'silent' });

export async function startSecureServer(
  options: {
    limits?: Partial<Limits>;
    authenticate?: boolean;
    tls?: TlsOptions;
    processTokens?: readonly ProcessToken[];
    logger?: Logger;
    tokenCacheMs?: number;
    /** the inference module (InferenceService) for one registered base model */
    inference?: InferenceModuleOptions;
  } = {},
): Promise<SecureServer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ptune-security-'));
  // the guard and the coordinator enforce one set of limits, as `ptune serve` passes them
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const modules = withAccessControl(
    allInOneModules({ workers: { count: 0 }, sweeper: { intervalMs: 0 }, coordinator: { limits }, inference: options.inference }),
    {
      authenticate: options.authenticate ?? true,
      host: '127.0.0.1',
      limits,
      tokenCacheMs: options.tokenCacheMs ?? 0,
      processTokens: options.processTokens,
    },
  );
  const maxMessageBytes = options.limits?.maxMessageBytes;
  const server = await startServer({
    modules,
    dataDir: dir,
    migrate: true,
    port: 0,
    logger: options.logger ?? silent,
    maxMessageBytes,
    tls: options.tls,
  });
  const prisma = server.context.prisma;
  const transport = createGrpcTransport(
    server.address,
    options.tls ? { credentials: grpc.credentials.createSsl(options.tls.certChain) } : {},
  );
  const tables = (
    await prisma.$queryRaw<{ name: string }[]>`
      SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`
  ).map((row) => row.name);
  const countQuery = `SELECT ${tables.map((t) => `(SELECT count(*) FROM "${t}")::int AS "${t}"`).join(', ')}`;
  return {
    server,
    prisma,
    transport,
    token: async (namespace, role) => (await createToken(prisma, { namespace, role, createdBy: 'test' })).text,
    async snapshot() {
      const [counts] = await prisma.$queryRawUnsafe<Record<string, number>[]>(countQuery);
      const blobs: string[] = [];
      for await (const blob of server.context.blobs.list()) blobs.push(blob.key);
      return JSON.stringify({ counts, blobs: blobs.sort() });
    },
    async close() {
      transport.close();
      await server.close(1000);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export type Outcome = { ok: true; replies: unknown[] } | { ok: false; error: RpcError };

/** Calls any method of any service with a token (or none); streams are drained. */
export async function invoke(
  transport: GrpcTransport,
  service: DescService,
  method: DescMethod,
  requests: readonly MessageInitShape<DescMessage>[],
  token?: string,
  /** stop reading a server stream after this many replies (WatchJob never ends on its own) */
  maxReplies = Infinity,
): Promise<Outcome> {
  const client = createClient(service as never, transport) as Record<string, (...args: unknown[]) => unknown>;
  const call = client[method.localName];
  const options = { metadata: token === undefined ? {} : { authorization: `Bearer ${token}` }, timeoutMs: 15_000 };
  try {
    switch (method.methodKind) {
      case 'unary':
        return { ok: true, replies: [await call(requests[0], options)] };
      case 'client_streaming':
        return { ok: true, replies: [await call(requests, options)] };
      default: {
        const replies: unknown[] = [];
        for await (const reply of call(
          method.methodKind === 'server_streaming' ? requests[0] : requests,
          options,
        ) as AsyncIterable<unknown>) {
          replies.push(reply);
          if (replies.length >= maxReplies) break;
        }
        return { ok: true, replies };
      }
    }
  } catch (err) {
    return { ok: false, error: RpcError.from(err) };
  }
}
