import type { ServerModule } from '../server/index.js';
import type { CoordinatorConfig } from './context.js';
import { createCoordinator } from './index.js';

/** TrainingService + WorkerProtocolService (and the lease maintenance loop) as a server module. */
export function coordinatorModule(config: Partial<CoordinatorConfig> = {}): ServerModule {
  return {
    name: 'coordinator',
    create: ({ prisma, blobs, logger }) => {
      const coordinator = createCoordinator({ prisma, blobs, config, onError: (err) => logger.warn({ err }, 'coordinator maintenance failed; retrying') });
      return { services: coordinator.services, stop: () => coordinator.stop() };
    },
  };
}
