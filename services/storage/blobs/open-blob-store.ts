import path from 'node:path';
import type { BlobStore } from './blob-store.js';
import { LocalBlobStore } from './local-blob-store.js';
import { S3BlobStore, type S3BlobStoreOptions } from './s3-blob-store.js';

/**
 * S3 when `S3_BUCKET` is set (with `S3_ENDPOINT`, `S3_REGION`, `S3_FORCE_PATH_STYLE`,
 * `S3_KEY_PREFIX`, and the AWS SDK's usual credential chain, e.g. `AWS_ACCESS_KEY_ID` /
 * `AWS_SECRET_ACCESS_KEY`); otherwise the local folder `<dataDir>/blobs`.
 */
export function openBlobStore(options: { dataDir: string; env: NodeJS.ProcessEnv }): BlobStore {
  const s3 = s3OptionsFromEnv(options.env);
  return s3 === undefined ? new LocalBlobStore(path.resolve(options.dataDir, 'blobs')) : new S3BlobStore(s3);
}

export function s3OptionsFromEnv(env: NodeJS.ProcessEnv): S3BlobStoreOptions | undefined {
  const bucket = env.S3_BUCKET;
  if (bucket === undefined || bucket === '') return undefined;
  const options: S3BlobStoreOptions = { bucket, forcePathStyle: parseFlag(env.S3_FORCE_PATH_STYLE, 'S3_FORCE_PATH_STYLE') };
  if (env.S3_ENDPOINT) options.endpoint = env.S3_ENDPOINT;
  if (env.S3_REGION) options.region = env.S3_REGION;
  if (env.S3_KEY_PREFIX) options.keyPrefix = env.S3_KEY_PREFIX;
  return options;
}

function parseFlag(value: string | undefined, name: string): boolean {
  if (value === undefined || value === '' || value === '0' || value === 'false') return false;
  if (value === '1' || value === 'true') return true;
  throw new Error(`${name}=${JSON.stringify(value)}: expected true, false, 1 or 0`);
}
