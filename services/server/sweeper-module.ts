import { sweepOrphanBlobs } from '../storage/index.js';
import type { ServerModule } from './server-module.js';

export interface SweeperOptions {
  /** Time between sweeps. Default 10 minutes; 0 disables the sweeper. */
  intervalMs?: number;
  /** Blobs younger than this are kept (a row may be about to reference them). Default 1 hour. */
  graceMs?: number;
}

/**
 * Periodically deletes blobs that no row references and that are older than the grace period:
 * uploads whose row insert failed, and blobs of deleted prompt versions. Runs never overlap.
 */
export function sweeperModule(options: SweeperOptions = {}): ServerModule {
  const intervalMs = options.intervalMs ?? 10 * 60_000;
  const graceMs = options.graceMs ?? 60 * 60_000;
  return {
    name: 'blob-sweeper',
    create({ prisma, blobs, logger }) {
      let timer: NodeJS.Timeout | undefined;
      let running: Promise<void> | undefined;
      const sweep = (): void => {
        if (running !== undefined) return;
        running = sweepOrphanBlobs(prisma, blobs, { graceMs })
          .then(
            (result) => {
              if (result.deleted.length > 0) logger.info({ deleted: result.deleted, scanned: result.scanned }, 'swept orphan blobs');
            },
            (err: unknown) => logger.error({ err }, 'orphan blob sweep failed'),
          )
          .finally(() => {
            running = undefined;
          });
      };
      return {
        start() {
          if (intervalMs > 0) timer = setInterval(sweep, intervalMs).unref();
        },
        async stop() {
          clearInterval(timer);
          await running;
        },
      };
    },
  };
}
