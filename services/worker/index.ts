/** The training worker: leases trials from a coordinator and trains them with the engine in-process. */
export { runWorker, type WorkerOptions } from './run-worker.js';
export { defaultCacheDir } from './blob-cache.js';
