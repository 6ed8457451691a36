/**
 * The coordinator: TrainingService and WorkerProtocolService over one database and blob store.
 * It keeps no state of its own (leases, queue, events and registrations are rows), so any number of
 * replicas can serve the same database; the queue SQL lives in ./queue.
 */
import type { ServiceImplementation } from '../grpc/index.js';
import type { BlobStore, PrismaClient } from '../storage/index.js';
import { DEFAULT_COORDINATOR_CONFIG, type CoordinatorConfig, type CoordinatorContext } from './context.js';
import { startMaintenance } from './maintenance.js';
import { trainingService } from './training-service.js';
import { workerService } from './worker-service.js';

export { DEFAULT_COORDINATOR_CONFIG, type CoordinatorConfig } from './context.js';
export { runMaintenance } from './maintenance.js';
export { registrationKey } from './jobs/register-best-trial.js';

export interface CoordinatorOptions {
  prisma: PrismaClient;
  blobs: BlobStore;
  config?: Partial<CoordinatorConfig>;
  /** maintenance errors (e.g. the database is briefly unreachable); they are retried next tick */
  onError?: (err: unknown) => void;
}

export interface Coordinator {
  readonly services: readonly ServiceImplementation[];
  readonly config: CoordinatorConfig;
  /** stops the maintenance loop (the gRPC server is closed by its owner) */
  stop(): Promise<void>;
}

export function createCoordinator(options: CoordinatorOptions): Coordinator {
  const config = { ...DEFAULT_COORDINATOR_CONFIG, ...options.config };
  const ctx: CoordinatorContext = { prisma: options.prisma, blobs: options.blobs, config };
  const stopMaintenance = startMaintenance(ctx, options.onError ?? ((err) => console.error('coordinator maintenance:', err)));
  return { services: [trainingService(ctx), workerService(ctx)], config, stop: stopMaintenance };
}
