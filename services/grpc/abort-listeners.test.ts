import { getEventListeners } from 'node:events';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { EchoService } from '../gen/ptune/testing/v1/echo_pb.js';
import { createClient, createGrpcTransport, implement, startGrpcServer, type GrpcServer, type GrpcTransport } from './index.js';

let server: GrpcServer;
let transport: GrpcTransport;

beforeAll(async () => {
  const echo = implement(EchoService, {
    echo: (request) => ({ text: request.text }),
    async *echoMany(request) {
      for (let index = 0; index < request.repeat; index++) yield { text: request.text, index };
    },
    async collect(requests) {
      let count = 0;
      for await (const _ of requests) count++;
      return { joined: '', count };
    },
    async *chat(requests) {
      for await (const request of requests) yield { text: request.text };
    },
  });
  server = await startGrpcServer({ port: 0, host: '127.0.0.1', services: [echo], logger: { error: () => undefined } });
  transport = createGrpcTransport(`127.0.0.1:${server.port}`);
});

afterAll(async () => {
  transport?.close();
  await server?.close();
});

// A worker passes its one stop signal to every lease poll: finished calls must not stay attached to it.
it('a finished call removes its abort listener from the signal it was given', async () => {
  const client = createClient(EchoService, transport);
  const stop = new AbortController();
  for (let i = 0; i < 20; i++) {
    await client.echo({ text: `call ${i}` }, { signal: stop.signal });
    for await (const _ of client.echoMany({ text: 'x', repeat: 2 }, { signal: stop.signal }));
  }
  await new Promise((resolve) => setImmediate(resolve));
  expect(getEventListeners(stop.signal, 'abort')).toHaveLength(0);
});
