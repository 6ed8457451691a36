/**
 * Child process of get-prompt.ts: the servers under test, alone on their event loop.
 *  - "warm": the registry as deployed (payload cache, and resolutions kept until a NOTIFY says their
 *    task changed) over Postgres (BENCH_WARM_DATABASE_URL) and a local blob folder;
 *  - "uncached": the same with the resolution cache off (one light Postgres query per call);
 *  - "cold": the registry with the cache off over Postgres (BENCH_COLD_DATABASE_URL) and S3 (BENCH_S3_*);
 *  - "bare": a grpc-js server whose GetPrompt handler returns the warm registry's exact response
 *    bytes, pre-encoded: the ceiling any GetPrompt implementation on this transport can reach.
 * Seeds both registries with one 20×4096 float32 prompt, then prints one JSON line with the ports.
 */
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { pino } from 'pino';
import { PromptRegistryService } from '../../services/gen/ptune/v1/registry_pb.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../../services/grpc/index.js';
import { registryModule } from '../../services/registry/server-module.js';
import { startServer } from '../../services/server/index.js';
import { LocalBlobStore, S3BlobStore } from '../../services/storage/index.js';
import { seed } from './seed.js';

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`bench-servers: ${name} is not set (run bench/registry/get-prompt.ts)`);
  return value;
};

async function startBare(response: Uint8Array): Promise<number> {
  const server = new grpc.Server({
    'grpc.max_receive_message_length': DEFAULT_MAX_MESSAGE_BYTES,
    'grpc.max_send_message_length': DEFAULT_MAX_MESSAGE_BYTES,
  });
  const reply = Buffer.from(response);
  const passThrough = (b: Buffer): Buffer => b;
  server.addService(
    {
      getPrompt: {
        path: `/${PromptRegistryService.typeName}/GetPrompt`,
        requestStream: false,
        responseStream: false,
        requestSerialize: passThrough,
        requestDeserialize: passThrough,
        responseSerialize: passThrough,
        responseDeserialize: passThrough,
      },
    },
    { getPrompt: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => callback(null, reply) },
  );
  return new Promise((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
  );
}

const logger = pino({ level: 'warn' });
const dir = await mkdtemp(path.join(os.tmpdir(), 'ptune-bench-'));
const warmBlobs = new LocalBlobStore(path.join(dir, 'blobs'));
const warm = await startServer({
  modules: [registryModule({ cacheBytes: 64 * 1024 * 1024 })],
  databaseUrl: env('BENCH_WARM_DATABASE_URL'),
  migrate: true,
  blobs: warmBlobs,
  port: 0,
  logger,
});
// Same database and blobs, every GetPrompt resolved in the database.
const uncached = await startServer({
  modules: [registryModule({ cacheBytes: 64 * 1024 * 1024, resolutionCache: false })],
  databaseUrl: env('BENCH_WARM_DATABASE_URL'),
  blobs: warmBlobs,
  port: 0,
  logger,
});
const cold = await startServer({
  modules: [registryModule({ cacheBytes: 0 })],
  databaseUrl: env('BENCH_COLD_DATABASE_URL'),
  migrate: true,
  blobs: new S3BlobStore({
    bucket: env('BENCH_S3_BUCKET'),
    endpoint: env('BENCH_S3_ENDPOINT'),
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  }),
  port: 0,
  logger,
});
const response = await seed(warm);
await seed(cold);
const bare = await startBare(response);
process.stdout.write(
  `${JSON.stringify({ warm: warm.port, uncached: uncached.port, cold: cold.port, bare, responseBytes: response.byteLength })}\n`,
);
process.on('SIGTERM', () => process.exit(0));
