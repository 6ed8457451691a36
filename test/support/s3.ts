import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import S3rver from 's3rver';
import type { S3BlobStoreOptions } from '../../services/storage/blobs/s3-blob-store.js';

/** A real S3 wire server (s3rver) on a random loopback port, with one empty bucket. */
export interface TestS3 {
  endpoint: string;
  bucket: string;
  /** Options for S3BlobStore pointing at this server (path-style, s3rver's fixed credentials). */
  storeOptions: S3BlobStoreOptions;
  stop(): Promise<void>;
}

// s3rver accepts exactly these credentials and checks request signatures against them.
const CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export async function startS3(bucket = 'ptune-test'): Promise<TestS3> {
  const directory = await mkdtemp(path.join(os.tmpdir(), 'ptune-s3-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: [{ name: bucket }] });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    bucket,
    storeOptions: { bucket, endpoint, region: 'us-east-1', forcePathStyle: true, credentials: CREDENTIALS },
    async stop() {
      // SDK clients keep sockets alive; close them or close() waits for their idle timeout.
      server.httpServer?.closeAllConnections();
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
