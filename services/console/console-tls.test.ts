/**
 * The console on a server that serves TLS: its HTTP port speaks HTTPS with the server's own
 * certificate, the session cookies are Secure, and the console reaches the gRPC server over TLS.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request } from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken, withAccessControl } from '../auth/index.js';
import { allInOneModules } from '../cli/commands/all-in-one.js';
import { startServer, type RunningServer } from '../server/index.js';
import { hasOpenssl, selfSigned } from '../../test/support/self-signed.js';

interface HttpsReply {
  status: number;
  cookies: string[];
  body: string;
}

describe.skipIf(!hasOpenssl())('console over TLS (needs the openssl CLI to make a test certificate)', () => {
  let dir: string;
  let server: RunningServer;
  let ca: Buffer;
  let token: string;

  const send = (method: 'GET' | 'POST', url: string, headers: Record<string, string>, body = ''): Promise<HttpsReply> =>
    new Promise((resolve, reject) => {
      const req = request(`https://127.0.0.1:${server.httpPort}${url}`, { method, ca, headers }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, cookies: res.headers['set-cookie'] ?? [], body: text }));
      });
      req.on('error', reject).end(body);
    });

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ptune-console-tls-'));
    const { cert: certFile, key: keyFile } = selfSigned(dir, 'server');
    ca = await readFile(certFile);
    const modules = allInOneModules({ workers: { count: 0 }, sweeper: { intervalMs: 0 }, console: { tls: { caFile: certFile } } });
    server = await startServer({
      modules: withAccessControl(modules, { authenticate: true, host: '127.0.0.1', tokenCacheMs: 0 }),
      dataDir: dir,
      migrate: true,
      port: 0,
      httpPort: 0,
      tls: { certChain: ca, privateKey: await readFile(keyFile) },
      logger: pino({ level: 'silent' }),
    });
    token = (await createToken(server.context.prisma, { namespace: 'acme', role: 'reader', createdBy: 'test' })).text;
  }, 120_000);
  afterAll(async () => {
    await server?.close(0);
    await rm(dir, { recursive: true, force: true });
  });

  it('signs in over HTTPS with Secure cookies and reads through the TLS gRPC server', async () => {
    const form = await send('GET', '/sign-in', {});
    expect(form.status).toBe(200);
    const nonce = form.cookies.find((c) => c.startsWith('ptune_sign_in='))!;
    expect(nonce).toMatch(/; Secure/i);
    const csrf = /name="csrf" value="([^"]+)"/.exec(form.body)![1]!;
    const signIn = await send(
      'POST',
      '/sign-in',
      {
        cookie: nonce.split(';')[0]!,
        origin: `https://127.0.0.1:${server.httpPort}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      new URLSearchParams({ token, csrf, next: '/' }).toString(),
    );
    expect(signIn.status).toBe(303);
    const session = signIn.cookies.find((c) => c.startsWith('ptune_session='))!;
    expect(session).toMatch(/; Secure/i);
    expect(session).toMatch(/HttpOnly/i);
    const home = await send('GET', '/', { cookie: session.split(';')[0]! });
    expect(home.status).toBe(200);
    expect(home.body).toContain('Namespace acme');
  });
});
