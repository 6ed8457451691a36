/**
 * The TypeScript client of ptune (README.md beside this file): typed clients for every service over
 * one connection, connection settings (token, TLS, deadline), prompt and dataset transfer, and job
 * following. The CLI, the quick start, the workers and the benchmarks use it.
 */
export {
  connect,
  clientsOver,
  DEFAULT_SERVER,
  type AccessClient,
  type InferenceClient,
  type PtuneClient,
  type RegistryClient,
  type TrainingClient,
  type WorkerProtocolClient,
} from './clients.js';
export { openClientTransport, type ClientTls, type ClientTransportOptions } from './transport.js';
export { clientOptionsFromEnv } from './settings.js';
export { pushPrompt, downloadPrompt, sha256Hex, CHUNK_BYTES, type PromptPayload } from './prompts.js';
export { uploadDataset } from './datasets.js';
export { modelUpload, weightsUpload, type LocalFile, type LocalModel } from './models.js';
export { jobEvents, isTerminalJobEvent, type FollowOptions } from './jobs.js';
export { trialLabel } from './trial-label.js';
