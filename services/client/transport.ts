/**
 * The client side of access control: a transport that sends `authorization: Bearer <token>` on
 * every call, speaks TLS (optionally with a client certificate) and gives unary calls a default
 * deadline. The CLI and workers open their connections through it.
 */
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { createGrpcTransport, type GrpcTransport } from '../grpc/index.js';

export interface ClientTls {
  /** PEM CA bundle to verify the server against; TLS is used when any TLS field is set */
  readonly caFile?: string;
  /** PEM client certificate and key, for servers that require them (mutual TLS) */
  readonly certFile?: string;
  readonly keyFile?: string;
}

export interface ClientTransportOptions {
  /** ptk_<id>_<secret>; no token: no authorization header */
  readonly token?: string;
  readonly tls?: ClientTls;
  /** deadline of unary calls that set none themselves (streams are not limited) */
  readonly defaultTimeoutMs?: number;
}

export function openClientTransport(address: string, options: ClientTransportOptions = {}): GrpcTransport {
  const interceptors: grpc.Interceptor[] = [];
  if (options.token !== undefined && options.token !== '') interceptors.push(bearerInterceptor(options.token));
  if (options.defaultTimeoutMs !== undefined) interceptors.push(deadlineInterceptor(options.defaultTimeoutMs));
  return createGrpcTransport(address, { credentials: channelCredentials(options.tls), channelOptions: { interceptors } });
}

function bearerInterceptor(token: string): grpc.Interceptor {
  return (options, next) =>
    new grpc.InterceptingCall(next(options), {
      start(metadata, listener, start) {
        if (metadata.get('authorization').length === 0) metadata.set('authorization', `Bearer ${token}`);
        start(metadata, listener);
      },
    });
}

function deadlineInterceptor(timeoutMs: number): grpc.Interceptor {
  return (options, next) => {
    const unary = !options.method_definition.requestStream && !options.method_definition.responseStream;
    return new grpc.InterceptingCall(
      next(unary && options.deadline === undefined ? { ...options, deadline: new Date(Date.now() + timeoutMs) } : options),
    );
  };
}

function channelCredentials(tls: ClientTls | undefined): grpc.ChannelCredentials {
  if (tls === undefined || (tls.caFile === undefined && tls.certFile === undefined && tls.keyFile === undefined))
    return grpc.credentials.createInsecure();
  if ((tls.certFile === undefined) !== (tls.keyFile === undefined))
    throw new Error('a client certificate needs both its certificate and its key file');
  return grpc.credentials.createSsl(
    read(tls.caFile, 'CA bundle'),
    read(tls.keyFile, 'client key'),
    read(tls.certFile, 'client certificate'),
  );
}

function read(file: string | undefined, what: string): Buffer | null {
  if (file === undefined) return null;
  try {
    return readFileSync(file);
  } catch (err) {
    throw new Error(`TLS ${what} ${file}: ${(err as Error).message}`, { cause: err });
  }
}
