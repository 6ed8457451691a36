import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { PromptRegistryService } from '../../services/gen/ptune/v1/registry_pb.js';
import { createClient, createGrpcTransport, type GrpcTransport, type ServiceClient } from '../../services/grpc/index.js';
import { registryModule } from '../../services/registry/server-module.js';
import { startServer, type RunningServer, type ServerModule } from '../../services/server/index.js';
import { LocalBlobStore, S3BlobStore, type BlobStore, type PrismaClient } from '../../services/storage/index.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { startS3, type TestS3 } from '../support/s3.js';

export type BackendName = 'pglite+local' | 'postgres+s3';
export const BACKENDS: BackendName[] = ['pglite+local', 'postgres+s3'];

/** Small enough that tests cross it with a few-hundred-KiB prompt. */
export const TEST_UNARY_LIMIT = 32 * 1024;

export type RegistryClient = ServiceClient<typeof PromptRegistryService>;

/** Row counts of every table plus every blob (key and size): equal snapshots mean nothing changed. */
export interface StorageSnapshot {
  rows: Record<string, number>;
  blobs: string[];
}

/**
 * A registry server over real storage on loopback: embedded PGlite + a local blob folder, or a real
 * Postgres server + an S3 wire server. `restart` closes the server and opens a new one on the same
 * storage, as a process restart would.
 */
export interface RegistryBackend {
  readonly name: BackendName;
  server: RunningServer;
  client: RegistryClient;
  readonly blobs: BlobStore;
  readonly prisma: PrismaClient;
  snapshot(): Promise<StorageSnapshot>;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

const silent = pino({ level: 'silent' });

export async function startBackend(name: BackendName, modules: () => ServerModule[] = defaultModules): Promise<RegistryBackend> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ptune-registry-test-'));
  let postgres: TestPostgres | undefined;
  let s3: TestS3 | undefined;
  let blobs: BlobStore;
  let databaseUrl: string | undefined;
  if (name === 'postgres+s3') {
    postgres = await startPostgres();
    s3 = await startS3();
    databaseUrl = await postgres.newDatabase();
    blobs = new S3BlobStore(s3.storeOptions);
  } else {
    blobs = new LocalBlobStore(path.join(dir, 'blobs'));
  }
  const open = (): Promise<RunningServer> =>
    startServer({ modules: modules(), dataDir: dir, databaseUrl, migrate: true, blobs, port: 0, logger: silent });
  let transport: GrpcTransport;
  const connect = (server: RunningServer): RegistryClient => {
    transport = createGrpcTransport(server.address);
    return createClient(PromptRegistryService, transport);
  };
  const server = await open();
  const backend: RegistryBackend = {
    name,
    server,
    client: connect(server),
    blobs,
    get prisma() {
      return backend.server.context.prisma;
    },
    async snapshot() {
      const prisma = backend.prisma;
      const tables = await prisma.$queryRaw<{ name: string }[]>`
        SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`;
      const rows: Record<string, number> = {};
      for (const { name: table } of tables) {
        const [{ count }] = await prisma.$queryRawUnsafe<{ count: bigint }[]>(`SELECT count(*) AS count FROM "${table}"`);
        rows[table] = Number(count);
      }
      const keys: string[] = [];
      for await (const blob of blobs.list()) keys.push(`${blob.key}:${blob.sizeBytes}`);
      return { rows, blobs: keys.sort() };
    },
    async restart() {
      transport.close();
      await backend.server.close();
      backend.server = await open();
      backend.client = connect(backend.server);
    },
    async stop() {
      transport.close();
      await backend.server.close();
      if (blobs instanceof S3BlobStore) blobs.destroy();
      await s3?.stop();
      await postgres?.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return backend;
}

function defaultModules(): ServerModule[] {
  return [registryModule({ unaryLimitBytes: TEST_UNARY_LIMIT, cacheBytes: 8 * 1024 * 1024 })];
}
