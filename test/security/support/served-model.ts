/**
 * The inference module of a secured test server, reading its base model from the server's own
 * registry as `ptune serve` does: metadata with a reader process token, files with a worker one.
 */
import type { ProcessToken } from '../../../services/auth/index.js';
import { mintProcessWorkerToken } from '../../../services/auth/index.js';
import { fetchBaseModel, mintInferenceToken, type InferenceModuleOptions } from '../../../services/inference/index.js';

export function servedFromRegistry(name: string, cacheDir: string): { inference: InferenceModuleOptions; processTokens: ProcessToken[] } {
  const [worker, reader] = [mintProcessWorkerToken(), mintInferenceToken()];
  return {
    processTokens: [worker, reader],
    inference: {
      modelName: name,
      loadModel: (address) =>
        fetchBaseModel({ registry: address, connection: { token: reader.text }, workerToken: worker.text, name, cacheDir }),
      engine: { maxSlots: 2 },
    },
  };
}
