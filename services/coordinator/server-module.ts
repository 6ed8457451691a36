import pg from 'pg';
import type { ServerModule } from '../server/index.js';
import type { CoordinatorConfig } from './context.js';
import { createCoordinator } from './index.js';

/** Connections of the queue's own pool (beside Prisma's) on a Postgres server. */
const QUEUE_POOL_SIZE = 10;

/**
 * TrainingService + WorkerProtocolService (and the lease maintenance loop) as a server module. On a
 * Postgres server the queue's hot SQL gets its own pg Pool; the embedded database stays on Prisma's
 * single connection.
 */
export function coordinatorModule(config: Partial<CoordinatorConfig> = {}): ServerModule {
  return {
    name: 'coordinator',
    create: ({ database, prisma, blobs, logger, promptChanges }) => {
      const queuePool = database.embedded ? undefined : new pg.Pool({ connectionString: database.url, max: QUEUE_POOL_SIZE });
      queuePool?.on('error', (err) => logger.warn({ err }, 'coordinator queue pool: idle connection failed'));
      const coordinator = createCoordinator({
        prisma,
        queuePool,
        blobs,
        config,
        promptChanges,
        listenUrl: database.embedded ? undefined : database.url,
        onError: (err) => logger.warn({ err }, 'coordinator maintenance failed; retrying'),
      });
      return {
        services: coordinator.services,
        async stop() {
          await coordinator.stop();
          await queuePool?.end();
        },
      };
    },
  };
}
