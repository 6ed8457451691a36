import type { Logger } from 'pino';
import type { ServiceImplementation } from '../grpc/index.js';
import type { PromptChanges } from '../registry/index.js';
import type { BlobStore, Database, PrismaClient } from '../storage/index.js';
import type { HttpRoutes } from './http-host.js';

/** What every module of a server gets: the open database and blob store, and a logger. */
export interface ServerContext {
  readonly database: Database;
  readonly prisma: PrismaClient;
  readonly blobs: BlobStore;
  /** Prompt version and alias changes, this process's and (on Postgres) every other's: caches follow it, writers report to it. */
  readonly promptChanges: PromptChanges;
  /** Root of the embedded data (PGlite under `pg/`, local blobs under `blobs/`). */
  readonly dataDir: string;
  readonly logger: Logger;
}

/** A running part of a server: gRPC services and/or background work. */
export interface ModuleInstance {
  /** Served by the server (health and reflection list them too). */
  readonly services?: readonly ServiceImplementation[];
  /**
   * Called once the gRPC server listens, in module order. `address` ("127.0.0.1:50051") is where an
   * in-process client (e.g. a worker) reaches the server.
   */
  start?(address: string): Promise<void> | void;
  /** HTTP routes, served on the server's HTTP port (`StartServerOptions.httpPort`) once the modules have started. */
  readonly http?: HttpRoutes;
  /** Called on shutdown in reverse module order, after the gRPC server has stopped, before the database closes. */
  stop?(): Promise<void> | void;
}

/**
 * One component of a server (the registry, the coordinator's services, in-process workers, the blob
 * sweeper, …). `create` runs after the database and blob store are open and before the server listens.
 */
export interface ServerModule {
  readonly name: string;
  create(context: ServerContext): Promise<ModuleInstance> | ModuleInstance;
}
