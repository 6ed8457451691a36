import path from 'node:path';
import { pino, type Logger } from 'pino';
import { startGrpcServer, type GrpcServer, type ServerHooks, type ServiceImplementation, type TlsOptions } from '../grpc/index.js';
import { COLUMN_INTEGER_CEILINGS, DEFAULT_DATA_DIR, openBlobStore, openDatabase, type BlobStore } from '../storage/index.js';
import { openPromptChanges } from '../registry/index.js';
import type { ModuleInstance, ServerContext, ServerModule } from './server-module.js';
import { startHttpHost, type HttpHost } from './http-host.js';

export interface StartServerOptions {
  /** Components to run, in order (see all-in-one.ts for `ptune serve`'s list). */
  modules: readonly ServerModule[];
  /** Embedded data directory; default `./.ptune`. */
  dataDir?: string;
  /** Postgres URL (the entry point reads DATABASE_URL); without one, embedded PGlite in `<dataDir>/pg`. */
  databaseUrl?: string;
  /** Apply pending migrations at start. Default: yes when embedded, no with a URL (`ptune migrate` does it). */
  migrate?: boolean;
  /** Blob store; default S3 when `env.S3_BUCKET` is set, else `<dataDir>/blobs`. */
  blobs?: BlobStore;
  /** The environment the default blob store reads `S3_*` from (the entry point passes process.env); default none. */
  env?: NodeJS.ProcessEnv;
  /** TCP port; 0 picks a free one. Default 50051. */
  port?: number;
  /**
   * HTTP port for the modules' HTTP routes (0 picks a free one). Without it, or when no module has
   * routes, no HTTP server runs. Same interface as gRPC; HTTPS with the same certificate when `tls`
   * is set (client certificates are not asked for on this port).
   */
  httpPort?: number;
  /** Interface to bind. Default 127.0.0.1 (pass 0.0.0.0 to serve other machines). */
  host?: string;
  /** gRPC interceptors (auth), call observer (metrics), error logger. */
  hooks?: ServerHooks;
  logger?: Logger;
  /** Largest gRPC message in either direction (grpc default in services/grpc: 8 MiB). */
  maxMessageBytes?: number;
  /** Serve TLS (optionally requiring client certificates) instead of plaintext. */
  tls?: TlsOptions;
}

export interface RunningServer {
  readonly port: number;
  /** host:port a local client dials. */
  readonly address: string;
  /** Port of the HTTP server, when one runs (see `StartServerOptions.httpPort`). */
  readonly httpPort?: number;
  readonly context: ServerContext;
  /** Stops accepting calls, lets running ones finish for up to graceMs, stops the modules, closes storage. */
  close(graceMs?: number): Promise<void>;
}

export const DEFAULT_PORT = 50051;

/**
 * The composition root: opens the database (migrating an embedded one) and the blob store, builds
 * every module, serves their gRPC services with health and reflection, then starts the modules.
 * A failure at any step undoes the steps before it.
 */
export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const dataDir = path.resolve(options.dataDir ?? DEFAULT_DATA_DIR);
  const logger = options.logger ?? pino({ name: 'ptune' });
  const database = await openDatabase({ url: options.databaseUrl, dataDir, migrate: options.migrate });
  const blobs = options.blobs ?? openBlobStore({ dataDir, env: options.env ?? {} });
  const promptChanges = openPromptChanges(database);
  const context: ServerContext = { database, prisma: database.prisma, blobs, promptChanges: promptChanges.changes, dataDir, logger };
  const instances: { name: string; instance: ModuleInstance }[] = [];
  let grpc: GrpcServer | undefined;
  let http: HttpHost | undefined;

  const stopAll = async (graceMs: number): Promise<void> => {
    await http?.close();
    await grpc?.close(graceMs);
    for (const { name, instance } of [...instances].reverse()) {
      await Promise.resolve(instance.stop?.()).catch((err: unknown) => logger.error({ err, module: name }, 'module failed to stop'));
    }
    if (options.blobs === undefined) (blobs as { destroy?: () => void }).destroy?.();
    await promptChanges.close();
    await database.close();
  };

  try {
    for (const module of options.modules) instances.push({ name: module.name, instance: await module.create(context) });
    const services: ServiceImplementation[] = instances.flatMap(({ instance }) => [...(instance.services ?? [])]);
    grpc = await startGrpcServer({
      ...options.hooks,
      logger: options.hooks?.logger ?? logger,
      port: options.port ?? DEFAULT_PORT,
      host: options.host ?? '127.0.0.1',
      services,
      maxReceiveMessageBytes: options.maxMessageBytes,
      maxSendMessageBytes: options.maxMessageBytes,
      tls: options.tls,
      integerCeilings: COLUMN_INTEGER_CEILINGS,
    });
    const host = options.host === undefined || options.host === '0.0.0.0' || options.host === '::' ? '127.0.0.1' : options.host;
    const address = `${host.includes(':') ? `[${host}]` : host}:${grpc.port}`;
    for (const { instance } of instances) await instance.start?.(address);
    const routes = instances.flatMap(({ name, instance }) => (instance.http ? [{ name, routes: instance.http }] : []));
    if (options.httpPort !== undefined && routes.length > 0) {
      http = await startHttpHost({
        port: options.httpPort,
        host: options.host ?? '127.0.0.1',
        tls: options.tls && { cert: options.tls.certChain, key: options.tls.privateKey },
        routes,
        grpcAddress: address,
        logger,
      });
    }
    const port = grpc.port;
    return { port, address, httpPort: http?.port, context, close: (graceMs = 10_000) => stopAll(graceMs) };
  } catch (err) {
    await stopAll(0).catch((closeErr: unknown) => logger.error({ err: closeErr }, 'cleanup after a failed start failed'));
    throw err;
  }
}
