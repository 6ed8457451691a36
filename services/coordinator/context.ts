import type { BlobStore, PrismaClient } from '../storage/index.js';
import type { JobLimits } from './jobs/job-limits.js';
import type { RetryBackoff } from './queue/retry-backoff.js';

/** Timing and limits of a coordinator; all state lives in the database and the blob store. */
export interface CoordinatorConfig extends JobLimits {
  /** a lease not extended within this expires and its trial is requeued */
  leaseTtlMs: number;
  /** how often workers are told to heartbeat */
  heartbeatIntervalMs: number;
  /** how often expired leases are requeued and finished jobs are finalized */
  maintenanceIntervalMs: number;
  /** WatchJob poll interval for new events */
  eventPollMs: number;
  /** longest LeaseTrial long-poll */
  maxLeaseWaitMs: number;
  retryBackoff: RetryBackoff;
}

export const DEFAULT_COORDINATOR_CONFIG: CoordinatorConfig = {
  maxTrialsPerJob: 1024,
  leaseTtlMs: 30_000,
  heartbeatIntervalMs: 5_000,
  maintenanceIntervalMs: 1_000,
  eventPollMs: 100,
  maxLeaseWaitMs: 10_000,
  retryBackoff: { baseMs: 2_000, maxMs: 60_000 },
};

export interface CoordinatorContext {
  prisma: PrismaClient;
  blobs: BlobStore;
  config: CoordinatorConfig;
}
