/**
 * A coordinator process for the fault tests: registry + coordinator (no in-process workers) over
 * DATABASE_URL and a local blob folder, with short lease timings so that failures show up fast.
 *   tsx coordinator-main.ts <port> <dataDir>
 */
import { pino } from 'pino';
import { coordinatorModule } from '../../../services/coordinator/server-module.js';
import { registryModule } from '../../../services/registry/server-module.js';
import { startServer } from '../../../services/server/index.js';
import { LocalBlobStore } from '../../../services/storage/index.js';

const [port, dataDir] = process.argv.slice(2);
const server = await startServer({
  databaseUrl: process.env.DATABASE_URL,
  migrate: false,
  dataDir,
  blobs: new LocalBlobStore(`${dataDir}/blobs`),
  port: Number(port),
  logger: pino({ level: 'warn' }),
  modules: [
    registryModule(),
    coordinatorModule({
      leaseTtlMs: 2_000,
      heartbeatIntervalMs: 300,
      maintenanceIntervalMs: 200,
      eventPollMs: 50,
      retryBackoff: { baseMs: 100, maxMs: 500 },
    }),
  ],
});
process.stdout.write(`coordinator listening on ${server.address}\n`);
process.once('SIGTERM', () => void server.close(1000).then(() => process.exit(0)));
