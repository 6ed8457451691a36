import type { DescMethod } from '@bufbuild/protobuf';
import type * as grpc from '@grpc/grpc-js';

/** The call surface every call kind shares (grpc-js does not export its own name for it). */
export type ServerCall = Pick<
  grpc.ServerUnaryCall<unknown, unknown>,
  'cancelled' | 'metadata' | 'getPeer' | 'getDeadline' | 'getPath' | 'getHost' | 'getAuthContext' | 'sendMetadata'
> & { once(event: 'cancelled', listener: () => void): unknown; removeListener(event: 'cancelled', listener: () => void): unknown };

/**
 * Runs before every handler (e.g. authentication). Throw an RpcError (e.g. UNAUTHENTICATED) to
 * refuse the call with that status.
 */
export type CallInterceptor = (call: ServerCall, methodPath: string) => Promise<void>;

/** How one call ended; passed to the CallObserver (e.g. a prom-client histogram). */
export interface CallOutcome {
  readonly methodPath: string;
  readonly methodKind: DescMethod['methodKind'];
  readonly code: grpc.status;
  readonly durationSeconds: number;
}

export type CallObserver = (outcome: CallOutcome) => void;

/** Receives the cause of every unexpected handler error (pino's Logger fits). */
export interface ErrorLogger {
  error(context: object, message: string): void;
}

export interface ServerHooks {
  /** Run in order before every handler. */
  readonly interceptors?: readonly CallInterceptor[];
  /** Called once per call when it ends. */
  readonly observe?: CallObserver;
  /** Where unexpected errors are logged; default: pino to stderr. */
  readonly logger?: ErrorLogger;
}
