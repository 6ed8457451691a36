/**
 * The coordinator under test, in its own process (the simulated workers get the other core):
 *   node --import tsx coordinator-main.ts <databaseUrl> <blobDir>
 * Answers IPC "queries" with the number of database round trips so far.
 */
import { createCoordinator } from '../../services/coordinator/index.js';
import { startGrpcServer } from '../../services/grpc/index.js';
import { LocalBlobStore } from '../../services/storage/index.js';
import { countingPrisma } from './counting-prisma.js';

const [url, blobDir] = process.argv.slice(2);
const db = countingPrisma(url, 10);
const coordinator = createCoordinator({ prisma: db.prisma, blobs: new LocalBlobStore(blobDir), config: { maintenanceIntervalMs: 1000 } });
const server = await startGrpcServer({ port: 0, host: '127.0.0.1', services: coordinator.services, logger: { error: (_c, message) => console.error(message) } });
process.on('message', (message) => {
  if (message === 'queries') process.send?.({ queries: db.queries(), queryMs: db.queryMs(), cpuMs: process.cpuUsage().user / 1000 + process.cpuUsage().system / 1000 });
  if (message === 'stop') void coordinator.stop().then(() => server.close(1000)).then(() => process.exit(0));
});
process.send?.({ port: server.port });
