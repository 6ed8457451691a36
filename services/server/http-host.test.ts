import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startServer, type RunningServer, type ServerModule } from './index.js';

const helloModule = (name: string, seen: string[]): ServerModule => ({
  name,
  create: () => ({
    http(app, grpcAddress) {
      seen.push(grpcAddress);
      app.get(`/${name}`, async () => ({ module: name }));
    },
  }),
});

describe('the HTTP host of startServer', () => {
  let dir: string | undefined;
  let server: RunningServer | undefined;
  afterEach(async () => {
    await server?.close(0);
    if (dir) await rm(dir, { recursive: true, force: true });
    server = undefined;
  });

  it("serves every module's routes on one port and hands them the gRPC address", async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ptune-http-'));
    const seen: string[] = [];
    server = await startServer({
      dataDir: dir,
      port: 0,
      httpPort: 0,
      logger: pino({ level: 'silent' }),
      modules: [helloModule('one', seen), helloModule('two', seen)],
    });
    expect(server.httpPort).toBeGreaterThan(0);
    expect(seen).toEqual([server.address, server.address]);
    for (const name of ['one', 'two']) {
      const response = await fetch(`http://127.0.0.1:${server.httpPort}/${name}`);
      expect(await response.json()).toEqual({ module: name });
    }
    expect((await fetch(`http://127.0.0.1:${server.httpPort}/three`)).status).toBe(404);
  });

  it('runs no HTTP server without an httpPort', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ptune-http-'));
    server = await startServer({ dataDir: dir, port: 0, logger: pino({ level: 'silent' }), modules: [helloModule('one', [])] });
    expect(server.httpPort).toBeUndefined();
  });
});
