/**
 * The served base model, by its registered name: read with GetBaseModel (a reader token), its files
 * fetched once into the blob cache as a worker fetches them (WorkerProtocolService.GetBlob: a worker
 * token) or read from a local copy; either way its fingerprint must be the registered one.
 */
import type { ClientTransportOptions } from '../client/index.js';
import { connect } from '../client/index.js';
import { loadModel, type LoadedModel, type WeightsDtype } from '../engine/index.js';
import { BlobCache, modelPath } from '../worker/index.js';

export interface FetchModelOptions {
  /** where the registry (and its GetBlob) listens */
  readonly registry: string;
  /** the process's own connection settings (TLS, deadline); `token`: one that may read base models */
  readonly connection: ClientTransportOptions;
  /** a token with the worker role, for GetBlob (not needed with localPath) */
  readonly workerToken?: string;
  readonly name: string;
  /** blob cache folder (files are fetched when no localPath is given) */
  readonly cacheDir: string;
  /** a local copy of the model (GGUF file or Hugging Face folder) instead of fetching it */
  readonly localPath?: string;
  /** the precision the weights are held in (default auto: the file's) */
  readonly weightsDtype?: WeightsDtype;
  readonly signal?: AbortSignal;
}

export async function fetchBaseModel(options: FetchModelOptions): Promise<LoadedModel> {
  const client = connect(options.registry, options.connection);
  const worker =
    options.localPath === undefined ? connect(options.registry, { ...options.connection, token: options.workerToken }) : undefined;
  try {
    const { baseModel } = await client.registry.getBaseModel({ name: options.name }, { signal: options.signal });
    if (baseModel === undefined) throw new Error(`GetBaseModel ${options.name} answered without the model`);
    const path = options.localPath ?? (await modelPath(new BlobCache(worker!.workerProtocol, options.cacheDir), baseModel, options.signal));
    const model = await loadModel(path, options.weightsDtype);
    if (model.fingerprint !== baseModel.fingerprintSha256) {
      throw new Error(
        `${path}: fingerprint ${model.fingerprint} is not that of the registered base model ${options.name} (${baseModel.fingerprintSha256})`,
      );
    }
    return model;
  } finally {
    client.close();
    worker?.close();
  }
}
