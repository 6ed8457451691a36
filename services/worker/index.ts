/** The training worker: leases trials from a coordinator and trains them with the engine in-process. */
export { runWorker, type WorkerOptions } from './run-worker.js';
export { BlobCache, defaultCacheDir } from './blob-cache.js';
// the inference server fetches its base model the way a worker does
export { modelPath } from './model-files.js';
