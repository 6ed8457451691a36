import { DEFAULT_LIMITS, type Limits } from '../config/index.js';
import type { PromptChanges } from '../registry/index.js';
import type { BlobStore, PrismaClient } from '../storage/index.js';
import type { CoalescedRunner } from './coalesced-runner.js';
import type { LeaseWakeup } from './lease-wakeup.js';
import type { QueryRunner } from './queue/query-runner.js';
import type { RetryBackoff } from './queue/retry-backoff.js';

/** Timing and limits of a coordinator; all state lives in the database and the blob store. */
export interface CoordinatorConfig {
  /**
   * the server's limits (services/config: limitsFromEnv() at the composition root); the coordinator
   * enforces the trial count of a job and the size of a dataset itself too
   */
  limits: CoordinatorLimits;
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
  /**
   * how often a long-polling LeaseTrial looks for work it was not woken for (work queued by another
   * replica, a retry whose backoff ended); this replica's own submissions and requeues wake it at once
   */
  leasePollMs: number;
  retryBackoff: RetryBackoff;
}

/** The limits of services/config that the coordinator enforces. */
export type CoordinatorLimits = Pick<Limits, 'maxTrialsPerJob' | 'maxDatasetBytes' | 'maxVirtualTokens'>;

export const DEFAULT_COORDINATOR_CONFIG: CoordinatorConfig = {
  limits: DEFAULT_LIMITS,
  leaseTtlMs: 30_000,
  heartbeatIntervalMs: 5_000,
  maintenanceIntervalMs: 1_000,
  eventPollMs: 100,
  maxLeaseWaitMs: 10_000,
  leasePollMs: 1_000,
  retryBackoff: { baseMs: 2_000, maxMs: 60_000 },
};

export interface CoordinatorContext {
  prisma: PrismaClient;
  /** the queue's SQL (a dedicated pg Pool on Postgres, else Prisma) */
  queue: QueryRunner;
  /** stamps job_seq on events soon after they are written */
  events: CoalescedRunner;
  /** this process's idle LeaseTrial calls */
  wakeup: LeaseWakeup;
  /** background failures (retried by the maintenance pass) */
  onError: (err: unknown) => void;
  blobs: BlobStore;
  /** registrations are reported here (this process's GetPrompt resolution caches) */
  promptChanges?: PromptChanges;
  config: CoordinatorConfig;
}
