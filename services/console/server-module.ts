/**
 * The web console as a server module: HTTP routes only. It reaches the registry and the
 * coordinator through this process's own gRPC server with the signed-in user's token, so the
 * console can see and change exactly what that token can through the API. The one thing it reads
 * besides the API is a base model's token-embedding table from the blob store, and only after the
 * API gave the user the prompt version that needs it (prompt-reading.ts).
 */
import { openClientTransport, type ClientTls } from '../client/index.js';
import type { GrpcTransport } from '../grpc/index.js';
import type { ModuleInstance, ServerModule } from '../server/index.js';
import { registerConsole } from './app.js';
import { promptReading } from './prompt-reading.js';

export interface ConsoleOptions {
  /** How to reach this process's gRPC server when it serves TLS (the server's certificate as CA). */
  readonly tls?: ClientTls;
  /** Deadline of the console's unary calls; default 30 s. */
  readonly callTimeoutMs?: number;
  /** Bytes of base-model embedding tables kept for the nearest-token reading; default 1 GiB. */
  readonly embeddingCacheBytes?: number;
}

export function consoleModule(options: ConsoleOptions = {}): ServerModule {
  return {
    name: 'console',
    create(context): ModuleInstance {
      let transport: GrpcTransport | undefined;
      const reading = promptReading({ blobs: context.blobs, cacheBytes: options.embeddingCacheBytes });
      return {
        http: (app, grpcAddress) => {
          transport = openClientTransport(grpcAddress, { tls: options.tls, defaultTimeoutMs: options.callTimeoutMs ?? 30_000 });
          return registerConsole(app, { transport, reading });
        },
        stop: () => transport?.close(),
      };
    },
  };
}
