import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EchoService } from '../gen/ptune/testing/v1/echo_pb.js';
import { createClient, createGrpcTransport, implement, RpcError, startGrpcServer, type GrpcServer } from './index.js';
import { hasOpenssl, selfSigned } from '../../test/support/self-signed.js';

interface KeyPair {
  cert: Buffer;
  key: Buffer;
}

/** A self-signed certificate for 127.0.0.1 as PEM bytes. */
function selfSignedPair(directory: string, name: string): KeyPair {
  const files = selfSigned(directory, name);
  return { cert: readFileSync(files.cert), key: readFileSync(files.key) };
}

const echo = implement(EchoService, {
  echo: (request) => ({ text: request.text }),
  async *echoMany() {},
  collect: () => ({}),
  async *chat() {},
});

async function failure(promise: Promise<unknown>): Promise<RpcError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(RpcError);
  return error as RpcError;
}

describe.skipIf(!hasOpenssl())('TLS (needs the openssl CLI to make test certificates)', () => {
  let directory: string;
  let server: KeyPair;
  let client: KeyPair;
  let running: GrpcServer;

  beforeAll(async () => {
    directory = mkdtempSync(path.join(tmpdir(), 'ptune-tls-'));
    server = selfSignedPair(directory, 'server');
    client = selfSignedPair(directory, 'client');
    running = await startGrpcServer({
      port: 0,
      host: '127.0.0.1',
      services: [echo],
      tls: { certChain: server.cert, privateKey: server.key, rootCerts: client.cert, requireClientCert: true },
    });
  });

  afterAll(async () => {
    await running.close(1000);
    rmSync(directory, { recursive: true, force: true });
  });

  it('serves a client that trusts the server and presents an accepted certificate', async () => {
    const transport = createGrpcTransport(`127.0.0.1:${running.port}`, {
      credentials: grpc.credentials.createSsl(server.cert, client.key, client.cert),
    });
    try {
      expect((await createClient(EchoService, transport).echo({ text: 'secure' })).text).toBe('secure');
    } finally {
      transport.close();
    }
  });

  it('refuses a client without a certificate, and a plaintext client', async () => {
    for (const credentials of [grpc.credentials.createSsl(server.cert), grpc.credentials.createInsecure()]) {
      const transport = createGrpcTransport(`127.0.0.1:${running.port}`, { credentials });
      try {
        const error = await failure(createClient(EchoService, transport).echo({ text: 'x' }, { timeoutMs: 5000 }));
        expect(error.code).toBe(grpc.status.UNAVAILABLE);
      } finally {
        transport.close();
      }
    }
  });
});
