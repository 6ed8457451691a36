/** An in-process coordinator on loopback gRPC over a given database (PGlite or real Postgres). */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createCoordinator, type Coordinator, type CoordinatorConfig } from '../../../services/coordinator/index.js';
import { TrainingService } from '../../../services/gen/ptune/v1/training_pb.js';
import { WorkerProtocolService } from '../../../services/gen/ptune/v1/worker_pb.js';
import { createClient, createGrpcTransport, startGrpcServer, type GrpcServer, type ServiceClient } from '../../../services/grpc/index.js';
import { LocalBlobStore, openDatabase, type BlobStore, type Database } from '../../../services/storage/index.js';

export interface CoordinatorHarness {
  address: string;
  db: Database;
  blobs: BlobStore;
  coordinator: Coordinator;
  training: ServiceClient<typeof TrainingService>;
  workers: ServiceClient<typeof WorkerProtocolService>;
  close(): Promise<void>;
}

export async function startCoordinatorHarness(
  options: { databaseUrl?: string; config?: Partial<CoordinatorConfig> } = {},
): Promise<CoordinatorHarness> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ptune-coord-'));
  const db = await openDatabase(options.databaseUrl ? { url: options.databaseUrl, migrate: true, poolSize: 4 } : { dataDir: dir });
  const blobs = new LocalBlobStore(path.join(dir, 'blobs'));
  const coordinator = createCoordinator({ prisma: db.prisma, blobs, config: options.config, listenUrl: options.databaseUrl });
  const server: GrpcServer = await startGrpcServer({
    port: 0,
    host: '127.0.0.1',
    services: coordinator.services,
    logger: { error: (context, message) => console.error(message, context) },
  });
  const address = `127.0.0.1:${server.port}`;
  const transport = createGrpcTransport(address);
  return {
    address,
    db,
    blobs,
    coordinator,
    training: createClient(TrainingService, transport),
    workers: createClient(WorkerProtocolService, transport),
    async close() {
      transport.close();
      await server.close(1000);
      await coordinator.stop();
      await db.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
