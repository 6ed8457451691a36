import * as grpc from '@grpc/grpc-js';
import { bindService } from './bind.js';
import type { ServingStatus } from './health.js';
import type { ServerHooks } from './hooks.js';
import type { ServiceImplementation } from './implement.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from './limits.js';
import type { IntegerCeilings } from './request-check.js';
import { createServiceDefinition } from './service-definition.js';

/** PEM-encoded server TLS material. */
export interface TlsOptions {
  readonly certChain: Buffer;
  readonly privateKey: Buffer;
  /** CA bundle to verify client certificates against (mutual TLS). */
  readonly rootCerts?: Buffer;
  /** Refuse clients without a certificate signed by rootCerts. */
  readonly requireClientCert?: boolean;
}

export interface GrpcServerOptions extends ServerHooks {
  /** Port to listen on; 0 picks a free one. */
  readonly port: number;
  /** Interface to bind; default "0.0.0.0". */
  readonly host?: string;
  readonly services: readonly ServiceImplementation[];
  /** Serve TLS instead of plaintext. */
  readonly tls?: TlsOptions;
  /** Largest message accepted; bigger ones fail with RESOURCE_EXHAUSTED. Default DEFAULT_MAX_MESSAGE_BYTES. */
  readonly maxReceiveMessageBytes?: number;
  /** Largest message sent; default DEFAULT_MAX_MESSAGE_BYTES. */
  readonly maxSendMessageBytes?: number;
  /** Integers above these are refused with INVALID_ARGUMENT before any handler runs (see request-check.ts). */
  readonly integerCeilings?: IntegerCeilings;
}

export interface GrpcServer {
  /** The bound port (useful with port 0). */
  readonly port: number;
  /** Sets the health status of one service ("" for the whole server). */
  setServingStatus(service: string, status: ServingStatus): void;
  /**
   * Reports NOT_SERVING, stops accepting calls, lets running calls finish for up to graceMs, then
   * cancels the rest.
   */
  close(graceMs?: number): Promise<void>;
}

/**
 * Starts a grpc-js server with the given services plus health checking and reflection. The server
 * side's own packages (pino, health, reflection and its protobufjs) load here, so that importing
 * this folder for a client (every CLI command) does not load them.
 */
export async function startGrpcServer(options: GrpcServerOptions): Promise<GrpcServer> {
  const [{ createHealth }, { createReflection }] = await Promise.all([import('./health.js'), import('./reflection.js')]);
  const logger = options.logger ?? (await import('pino')).pino({ name: 'grpc' });
  const hooks = { ...options, logger };
  const server = new grpc.Server({
    'grpc.max_receive_message_length': options.maxReceiveMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
    'grpc.max_send_message_length': options.maxSendMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
  });
  for (const implementation of options.services) {
    server.addService(createServiceDefinition(implementation.service), bindService(implementation, hooks));
  }
  const serviceNames = options.services.map((implementation) => implementation.service.typeName);
  const health = createHealth(serviceNames);
  health.addToServer(server);
  createReflection(options.services.map((implementation) => implementation.service)).addToServer(server);

  const port = await bind(server, options);
  return {
    port,
    setServingStatus: (service, status) => health.setStatus(service, status),
    close: (graceMs = 10_000) => {
      for (const name of ['', ...serviceNames]) health.setStatus(name, 'NOT_SERVING');
      return shutdown(server, graceMs);
    },
  };
}

/**
 * grpc-js logs a failed bind itself ("E No address added out of total 1 resolved") just before it
 * throws, and bind() reports that failure with the address: that one line is dropped, grpc-js's
 * other log lines are written as grpc-js writes them.
 */
const BIND_FAILURE_LOG = 'No address added out of total';
let bindFailureLogDropped = false;
function dropBindFailureLog(): void {
  if (bindFailureLogDropped) return;
  bindFailureLogDropped = true;
  grpc.setLogger({
    error: (message?: unknown, ...rest: unknown[]) => {
      if (!String(message).startsWith(BIND_FAILURE_LOG)) console.error(`E ${String(message)}`, ...rest);
    },
    info: (message?: unknown, ...rest: unknown[]) => console.error(`I ${String(message)}`, ...rest),
    debug: (message?: unknown, ...rest: unknown[]) => console.error(`D ${String(message)}`, ...rest),
  });
}

function bind(server: grpc.Server, options: GrpcServerOptions): Promise<number> {
  dropBindFailureLog();
  const host = options.host ?? '0.0.0.0';
  const address = `${host.includes(':') ? `[${host}]` : host}:${options.port}`;
  const credentials = options.tls
    ? grpc.ServerCredentials.createSsl(
        options.tls.rootCerts ?? null,
        [{ cert_chain: options.tls.certChain, private_key: options.tls.privateKey }],
        options.tls.requireClientCert ?? false,
      )
    : grpc.ServerCredentials.createInsecure();
  return new Promise((resolve, reject) => {
    server.bindAsync(address, credentials, (error, port) =>
      error ? reject(new Error(`gRPC server cannot listen on ${address}: ${error.message}`, { cause: error })) : resolve(port),
    );
  });
}

function shutdown(server: grpc.Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(force);
      resolve();
    });
  });
}
