/**
 * The coordinator: TrainingService and WorkerProtocolService over one database and blob store.
 * It keeps no state of its own (leases, queue, events and registrations are rows), so any number of
 * replicas can serve the same database; the queue SQL lives in ./queue.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import type { ServiceImplementation } from '../grpc/index.js';
import type { PromptChanges } from '../registry/index.js';
import type { BlobStore, PrismaClient } from '../storage/index.js';
import { DEFAULT_COORDINATOR_CONFIG, type CoordinatorConfig, type CoordinatorContext } from './context.js';
import { createCoalescedRunner } from './coalesced-runner.js';
import { createLeaseWakeup, listenForQueuedWork } from './lease-wakeup.js';
import { startMaintenance } from './maintenance.js';
import { sequenceEvents } from './queue/job-events.js';
import { poolRunner, prismaRunner } from './queue/query-runner.js';
import { trainingService } from './training-service.js';
import { workerService } from './worker-service.js';

export type { CoordinatorConfig } from './context.js';
export { orchestrationGauges } from './orchestration-gauges.js';

const SEQUENCER_GATHER_MS = 10;

export interface CoordinatorOptions {
  prisma: PrismaClient;
  /**
   * A pg Pool on the same database for the queue's hot SQL (prepared statements, no ORM). Without
   * it the queue goes through Prisma (the embedded PGlite server takes one connection only).
   */
  queuePool?: pg.Pool;
  blobs: BlobStore;
  config?: Partial<CoordinatorConfig>;
  /** maintenance errors (e.g. the database is briefly unreachable); they are retried next tick */
  onError?: (err: unknown) => void;
  /** told of each registration, so this process's GetPrompt caches see it before the job ends */
  promptChanges?: PromptChanges;
  /**
   * The Postgres URL to LISTEN on for trials queued by any replica (database triggers notify
   * `ptune_work_queued`), waking idle LeaseTrial calls at once; without it (embedded PGlite: one
   * process) work queued elsewhere is found by the fallback poll (`leasePollMs`).
   */
  listenUrl?: string;
}

export interface Coordinator {
  readonly services: readonly ServiceImplementation[];
  readonly config: CoordinatorConfig;
  /** stops the maintenance loop (the gRPC server is closed by its owner; the pool by whoever made it) */
  stop(): Promise<void>;
}

export function createCoordinator(options: CoordinatorOptions): Coordinator {
  const config = { ...DEFAULT_COORDINATOR_CONFIG, ...options.config };
  const onError = options.onError ?? ((err: unknown) => console.error('coordinator maintenance:', err));
  const queue = options.queuePool ? poolRunner(options.queuePool) : prismaRunner(options.prisma);
  const ctx: CoordinatorContext = {
    prisma: options.prisma,
    queue,
    // a run first gathers events for a moment: under load one stamping transaction then serves
    // many more writes (WatchJob polls every eventPollMs, so the delay is not visible there)
    events: createCoalescedRunner(async () => {
      await sleep(SEQUENCER_GATHER_MS);
      return queue.transaction(sequenceEvents);
    }, onError),
    wakeup: createLeaseWakeup(),
    onError,
    blobs: options.blobs,
    promptChanges: options.promptChanges,
    config,
  };
  const stopMaintenance = startMaintenance(ctx, onError);
  const listener = options.listenUrl === undefined ? undefined : listenForQueuedWork(options.listenUrl, ctx.wakeup);
  return {
    services: [trainingService(ctx), workerService(ctx)],
    config,
    async stop() {
      await listener?.close();
      await stopMaintenance();
      await ctx.events.flush();
    },
  };
}
