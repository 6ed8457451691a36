/**
 * The client side end to end: the CLI's connection settings (PTUNE_TOKEN or the config file's token,
 * TLS files) against a real server that requires tokens and client certificates (mutual TLS).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServerTls } from '../../services/auth/index.js';
import { clientOptionsFromEnv, openClientTransport } from '../../services/client/index.js';
import { PromptRegistryService } from '../../services/gen/ptune/v1/registry_pb.js';
import { createClient, RpcError } from '../../services/grpc/index.js';
import { startSecureServer, type SecureServer } from './support/secure-server.js';
import { hasOpenssl, selfSigned } from '../support/self-signed.js';

describe.skipIf(!hasOpenssl())('CLI connection settings against a token + mutual-TLS server (needs the openssl CLI)', () => {
  let dir: string;
  let env: SecureServer;
  let serverPair: { cert: string; key: string };
  let clientPair: { cert: string; key: string };
  let token: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'ptune-client-'));
    serverPair = selfSigned(dir, 'server');
    clientPair = selfSigned(dir, 'client');
    const tls = loadServerTls({ certFile: serverPair.cert, keyFile: serverPair.key, clientCaFile: clientPair.cert });
    env = await startSecureServer({ tls });
    token = await env.token('alpha', 'reader');
  }, 60_000);
  afterAll(async () => {
    await env?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const listModels = async (settings: NodeJS.ProcessEnv): Promise<string> => {
    const transport = openClientTransport(env.server.address, clientOptionsFromEnv(settings));
    try {
      await createClient(PromptRegistryService, transport).listBaseModels({});
      return 'OK';
    } catch (err) {
      return RpcError.from(err).codeName;
    } finally {
      transport.close();
    }
  };
  const writeConfig = (name: string, yaml: string): string => {
    const file = path.join(dir, name);
    writeFileSync(file, yaml);
    return file;
  };

  it('uses the token and TLS files of the config file', async () => {
    const config = writeConfig(
      'ok.yaml',
      `token: ${token}\ntls:\n  ca: ${serverPair.cert}\n  cert: ${clientPair.cert}\n  key: ${clientPair.key}\n`,
    );
    expect(await listModels({ PTUNE_CONFIG: config })).toBe('OK');
  });

  it('lets PTUNE_TOKEN and PTUNE_TLS_* override the file', async () => {
    const config = writeConfig('stale.yaml', `token: ptk_${'x'.repeat(12)}_${'y'.repeat(43)}\n`);
    expect(
      await listModels({
        PTUNE_CONFIG: config,
        PTUNE_TLS_CA: serverPair.cert,
        PTUNE_TLS_CLIENT_CERT: clientPair.cert,
        PTUNE_TLS_CLIENT_KEY: clientPair.key,
      }),
    ).toBe('UNAUTHENTICATED');
    expect(
      await listModels({
        PTUNE_CONFIG: config,
        PTUNE_TOKEN: token,
        PTUNE_TLS_CA: serverPair.cert,
        PTUNE_TLS_CLIENT_CERT: clientPair.cert,
        PTUNE_TLS_CLIENT_KEY: clientPair.key,
      }),
    ).toBe('OK');
  });

  it('is refused without a token, and without a client certificate', async () => {
    const noToken = writeConfig('no-token.yaml', `tls:\n  ca: ${serverPair.cert}\n  cert: ${clientPair.cert}\n  key: ${clientPair.key}\n`);
    expect(await listModels({ PTUNE_CONFIG: noToken })).toBe('UNAUTHENTICATED');
    const noClientCert = writeConfig('no-cert.yaml', `token: ${token}\ntls:\n  ca: ${serverPair.cert}\n`);
    expect(await listModels({ PTUNE_CONFIG: noClientCert })).toBe('UNAVAILABLE');
    expect(await listModels({ PTUNE_CONFIG: writeConfig('plain.yaml', `token: ${token}\n`) })).toBe('UNAVAILABLE');
  });

  it('names the config file and the problem when it is malformed', () => {
    expect(() => clientOptionsFromEnv({ PTUNE_CONFIG: writeConfig('bad.yaml', 'token: [1, 2]\n') })).toThrow(
      /bad\.yaml: "token" must be a string/,
    );
    expect(() => clientOptionsFromEnv({ PTUNE_CONFIG: writeConfig('typo.yaml', 'tokn: x\n') })).toThrow(
      /typo\.yaml: unknown key\(s\) tokn/,
    );
    expect(() => clientOptionsFromEnv({ PTUNE_CONFIG: path.join(dir, 'missing.yaml') })).toThrow(/missing\.yaml/);
  });
});
