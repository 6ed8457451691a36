/**
 * A fault-test environment: a real Postgres server, a coordinator process on it, clients, and a
 * Prisma client for seeding and checking rows. Workers are started by the tests.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { TrainingService } from '../../../services/gen/ptune/v1/training_pb.js';
import { createClient, createGrpcTransport, type GrpcTransport, type ServiceClient } from '../../../services/grpc/index.js';
import { LocalBlobStore, openDatabase, type BlobStore, type Database } from '../../../services/storage/index.js';
import { freePort } from '../../support/free-port.js';
import { startPostgres, type TestPostgres } from '../../support/postgres.js';
import { startCoordinator, startWorker, waitFor, type Child } from './processes.js';

export interface FaultEnv {
  pg: TestPostgres;
  databaseUrl: string;
  db: Database;
  blobs: BlobStore;
  dir: string;
  address: string;
  coordinator: Child;
  training: ServiceClient<typeof TrainingService>;
  workers: Child[];
  /** (re)starts the coordinator process on the same port and waits until it serves */
  startCoordinator(): Promise<void>;
  startWorker(name: string): Child;
  /** every child's output, for failure messages */
  logs(): string;
  close(): Promise<void>;
}

export async function startFaultEnv(): Promise<FaultEnv> {
  const pg = await startPostgres();
  const databaseUrl = await pg.newDatabase();
  const db = await openDatabase({ url: databaseUrl, migrate: true, poolSize: 4 });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ptune-fault-'));
  const blobs = new LocalBlobStore(path.join(dir, 'blobs'));
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  let transport: GrpcTransport = createGrpcTransport(address);
  const env: FaultEnv = {
    pg,
    databaseUrl,
    db,
    blobs,
    dir,
    address,
    coordinator: undefined as unknown as Child,
    training: createClient(TrainingService, transport),
    workers: [],
    async startCoordinator() {
      env.coordinator = startCoordinator(port, dir, databaseUrl);
      await waitFor(
        'the coordinator to listen',
        async () => (env.coordinator.output().includes('listening') ? true : undefined),
        60_000,
        () => env.coordinator.output(),
      );
      transport.close();
      transport = createGrpcTransport(address);
      env.training = createClient(TrainingService, transport);
    },
    startWorker(name) {
      const worker = startWorker(address, name, path.join(dir, `cache-${name}`));
      env.workers.push(worker);
      return worker;
    },
    logs: () =>
      [`--- coordinator ---\n${env.coordinator?.output() ?? ''}`, ...env.workers.map((w, i) => `--- worker ${i} ---\n${w.output()}`)].join(
        '\n',
      ),
    async close() {
      transport.close();
      await Promise.all([...env.workers, env.coordinator].filter(Boolean).map((c) => c.kill9()));
      await db.close();
      await pg.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
  await env.startCoordinator();
  return env;
}
