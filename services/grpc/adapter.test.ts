import { setTimeout as sleep } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { create, toBinary, type MessageInitShape, type MessageShape } from '@bufbuild/protobuf';
import {
  EchoResponseSchema,
  EchoService,
  EchoManyResponseSchema,
  type ChatRequestSchema,
  type ChatResponseSchema,
  type CollectResponse,
  type EchoManyResponse,
  type EchoRequest,
} from '../gen/ptune/testing/v1/echo_pb.js';
import {
  createClient,
  createGrpcTransport,
  implement,
  PreEncoded,
  RpcError,
  startGrpcServer,
  type CallOutcome,
  type GrpcServer,
  type CallContext,
  type GrpcTransport,
  type ServiceClient,
  type ServiceHandlers,
} from './index.js';

const MAX_MESSAGE_BYTES = 64 * 1024;

/** Echo handlers: the behaviour each test expects is spelled out in echo.proto. */
const echoService = implement(EchoService, {
  echo(request) {
    if (request.text === 'crash') throw new Error('secret internal detail');
    if (request.failCode) throw new RpcError(request.failCode, `asked to fail with ${request.failCode}`, { field: 'fail_code' });
    return { text: request.text, padding: request.padding };
  },
  async *echoMany(request) {
    for (let index = 0; index < request.repeat; index++) yield { text: request.text, index };
    if (request.failCode) throw new RpcError(request.failCode, 'failed after the stream');
  },
  async collect(requests) {
    const texts: string[] = [];
    for await (const request of requests) texts.push(request.text);
    return { joined: texts.join(' '), count: texts.length };
  },
  async *chat(requests) {
    for await (const request of requests) {
      if (request.text === 'crash') throw new Error('secret internal detail');
      yield { text: request.text.toUpperCase() };
    }
  },
});

async function* slowly<T>(items: T[]): AsyncGenerator<T> {
  for (const item of items) {
    await sleep(1);
    yield item;
  }
}

async function collectAll<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of stream) items.push(item);
  return items;
}

async function rejection(promise: Promise<unknown>): Promise<RpcError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(RpcError);
  return error as RpcError;
}

describe('grpc adapter over loopback', () => {
  let server: GrpcServer;
  let transport: GrpcTransport;
  let client: ServiceClient<typeof EchoService>;
  const logged: { context: object; message: string }[] = [];
  const outcomes: CallOutcome[] = [];

  beforeAll(async () => {
    server = await startGrpcServer({
      port: 0,
      host: '127.0.0.1',
      services: [echoService],
      maxReceiveMessageBytes: MAX_MESSAGE_BYTES,
      logger: { error: (context, message) => logged.push({ context, message }) },
      observe: (outcome) => outcomes.push(outcome),
    });
    transport = createGrpcTransport(`127.0.0.1:${server.port}`, { maxReceiveMessageBytes: MAX_MESSAGE_BYTES });
    client = createClient(EchoService, transport);
  });

  afterAll(async () => {
    transport.close();
    await server.close(1000);
  });

  it('unary', async () => {
    const response = await client.echo({ text: 'hello' });
    expect(response.text).toBe('hello');
    expect(response.$typeName).toBe('ptune.testing.v1.EchoResponse');
  });

  it('server streaming', async () => {
    const responses = await collectAll(client.echoMany({ text: 'hi', repeat: 5 }));
    expect(responses.map((response) => [response.text, response.index])).toEqual([0, 1, 2, 3, 4].map((index) => ['hi', index]));
  });

  it('client streaming, from sync and async iterables', async () => {
    const texts = ['a', 'b', 'c'];
    expect(await client.collect(texts.map((text) => ({ text })))).toMatchObject({ joined: 'a b c', count: 3 });
    expect(await client.collect(slowly(texts.map((text) => ({ text }))))).toMatchObject({ joined: 'a b c', count: 3 });
    expect(await client.collect([])).toMatchObject({ joined: '', count: 0 });
  });

  it('bidi streaming', async () => {
    const responses = await collectAll(client.chat(slowly(['x', 'yz'].map((text) => ({ text })))));
    expect(responses.map((response) => response.text)).toEqual(['X', 'YZ']);
  });

  it('streams many messages with backpressure in both directions', async () => {
    const count = 2000;
    const requests = Array.from({ length: count }, (_, index) => ({ text: `m${index}` }));
    const responses = await collectAll(client.chat(requests));
    expect(responses).toHaveLength(count);
    expect(responses[count - 1].text).toBe(`M${count - 1}`);
  });

  it('RpcError from a unary handler arrives with its status, message and details', async () => {
    const error = await rejection(client.echo({ text: 'x', failCode: grpc.status.NOT_FOUND }));
    expect(error.code).toBe(grpc.status.NOT_FOUND);
    expect(error.codeName).toBe('NOT_FOUND');
    expect(error.message).toBe(`asked to fail with ${grpc.status.NOT_FOUND}`);
    expect(error.details).toEqual({ field: 'fail_code' });
  });

  it('RpcError after streamed messages: the messages arrive, then the status', async () => {
    const received: number[] = [];
    const failure = (async () => {
      for await (const response of client.echoMany({ text: 't', repeat: 2, failCode: grpc.status.ABORTED })) received.push(response.index);
    })();
    const error = await rejection(failure);
    expect(error.code).toBe(grpc.status.ABORTED);
    expect(error.message).toBe('failed after the stream');
    expect(received).toEqual([0, 1]);
  });

  it('an unexpected error becomes INTERNAL without leaking its message; the cause is logged', async () => {
    logged.length = 0;
    const unary = await rejection(client.echo({ text: 'crash' }));
    const bidi = await rejection(collectAll(client.chat([{ text: 'ok' }, { text: 'crash' }])));
    for (const error of [unary, bidi]) {
      expect(error.code).toBe(grpc.status.INTERNAL);
      expect(error.message).not.toContain('secret');
      expect(error.message).toMatch(/internal error \(reference [0-9a-f]{8}/);
    }
    expect(logged).toHaveLength(2);
    expect(logged[0].context).toMatchObject({ methodPath: '/ptune.testing.v1.EchoService/Echo' });
    expect(String((logged[0].context as { err: Error }).err.message)).toBe('secret internal detail');
  });

  it('a request above the server limit fails with RESOURCE_EXHAUSTED', async () => {
    const error = await rejection(client.echo({ text: 'big', padding: new Uint8Array(MAX_MESSAGE_BYTES + 1) }));
    expect(error.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
  });

  it('a response above the client limit fails with RESOURCE_EXHAUSTED', async () => {
    const small = createGrpcTransport(`127.0.0.1:${server.port}`, { maxReceiveMessageBytes: 1024 });
    try {
      const error = await rejection(createClient(EchoService, small).echo({ text: 'big', padding: new Uint8Array(2048) }));
      expect(error.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    } finally {
      small.close();
    }
  });

  it('a failing request stream cancels the call and rejects with its own error', async () => {
    outcomes.length = 0;
    async function* broken(): AsyncGenerator<{ text: string }> {
      yield { text: 'a' };
      throw new Error('request source failed');
    }
    await expect(client.collect(broken())).rejects.toThrow('request source failed');
    for (let attempt = 0; attempt < 500 && outcomes.length === 0; attempt++) await sleep(10);
    expect(outcomes.map(({ methodPath, code }) => ({ methodPath, code }))).toEqual([
      { methodPath: '/ptune.testing.v1.EchoService/Collect', code: grpc.status.CANCELLED },
    ]);
  });

  it('an aborted signal cancels the call with CANCELLED', async () => {
    const controller = new AbortController();
    controller.abort();
    const error = await rejection(client.echo({ text: 'x' }, { signal: controller.signal }));
    expect(error.code).toBe(grpc.status.CANCELLED);
  });

  it('reports every call outcome to the observer', async () => {
    outcomes.length = 0;
    await client.echo({ text: 'ok' });
    await rejection(client.echo({ text: 'x', failCode: grpc.status.FAILED_PRECONDITION }));
    await collectAll(client.echoMany({ text: 'x', repeat: 1 }));
    expect(outcomes.map(({ methodPath, methodKind, code }) => ({ methodPath, methodKind, code }))).toEqual([
      { methodPath: '/ptune.testing.v1.EchoService/Echo', methodKind: 'unary', code: grpc.status.OK },
      { methodPath: '/ptune.testing.v1.EchoService/Echo', methodKind: 'unary', code: grpc.status.FAILED_PRECONDITION },
      { methodPath: '/ptune.testing.v1.EchoService/EchoMany', methodKind: 'server_streaming', code: grpc.status.OK },
    ]);
    expect(outcomes.every((outcome) => outcome.durationSeconds >= 0)).toBe(true);
  });
});

describe('cancellation and deadlines reach the handler', () => {
  const seen: string[] = [];
  let server: GrpcServer;
  let transport: GrpcTransport;
  let client: ServiceClient<typeof EchoService>;

  beforeAll(async () => {
    server = await startGrpcServer({
      port: 0,
      host: '127.0.0.1',
      services: [
        implement(EchoService, {
          async echo(request, context) {
            await sleep(60_000, undefined, { signal: context.signal }).catch(() => seen.push(`echo aborted: ${context.signal.aborted}`));
            return { text: request.text };
          },
          async *echoMany(request) {
            try {
              for (let index = 0; ; index++) {
                await sleep(1);
                yield { text: request.text, index };
              }
            } finally {
              seen.push('echoMany stopped');
            }
          },
          async collect(requests) {
            try {
              for await (const _ of requests) seen.push('collect got a message');
              return { count: 0 };
            } catch (error) {
              seen.push(`collect failed: ${(error as RpcError).codeName}`);
              throw error;
            }
          },
          async *chat() {},
        }),
      ],
    });
    transport = createGrpcTransport(`127.0.0.1:${server.port}`);
    client = createClient(EchoService, transport);
  });

  afterAll(async () => {
    transport.close();
    await server.close(1000);
  });

  async function until(entry: string): Promise<void> {
    for (let attempt = 0; attempt < 500 && !seen.includes(entry); attempt++) await sleep(10);
    expect(seen, JSON.stringify(seen)).toContain(entry);
  }

  it('a deadline aborts the handler signal; the client gets DEADLINE_EXCEEDED', async () => {
    const error = await rejection(client.echo({ text: 'x' }, { timeoutMs: 100 }));
    expect(error.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    await until('echo aborted: true');
  });

  it('leaving a response stream early stops the server generator', async () => {
    let received = 0;
    for await (const _ of client.echoMany({ text: 'x' })) if (++received === 3) break;
    await until('echoMany stopped');
  });

  it('cancelling a client stream makes the handler iteration fail with CANCELLED', async () => {
    const controller = new AbortController();
    async function* oneThenWait(): AsyncGenerator<{ text: string }> {
      yield { text: 'a' };
      await sleep(60_000, undefined, { signal: controller.signal }).catch(() => undefined);
    }
    const call = client.collect(oneThenWait(), { signal: controller.signal });
    await until('collect got a message');
    controller.abort();
    expect((await rejection(call)).code).toBe(grpc.status.CANCELLED);
    await until('collect failed: CANCELLED');
  });
});

describe('interceptors', () => {
  it('run before every handler and can refuse the call with an RpcError', async () => {
    const paths: string[] = [];
    const server = await startGrpcServer({
      port: 0,
      host: '127.0.0.1',
      services: [echoService],
      interceptors: [
        async (call, methodPath) => {
          paths.push(methodPath);
          if (call.metadata.get('authorization')[0] !== 'Bearer good')
            throw new RpcError(grpc.status.UNAUTHENTICATED, 'missing or bad token');
        },
      ],
    });
    const transport = createGrpcTransport(`127.0.0.1:${server.port}`);
    try {
      const client = createClient(EchoService, transport);
      const refused = await rejection(client.echo({ text: 'x' }));
      expect(refused.code).toBe(grpc.status.UNAUTHENTICATED);
      expect(refused.message).toBe('missing or bad token');
      const streamRefused = await rejection(collectAll(client.chat([{ text: 'x' }])));
      expect(streamRefused.code).toBe(grpc.status.UNAUTHENTICATED);
      const accepted = await client.echo({ text: 'x' }, { metadata: { authorization: 'Bearer good' } });
      expect(accepted.text).toBe('x');
      expect(paths).toEqual([
        '/ptune.testing.v1.EchoService/Echo',
        '/ptune.testing.v1.EchoService/Chat',
        '/ptune.testing.v1.EchoService/Echo',
      ]);
    } finally {
      transport.close();
      await server.close(1000);
    }
  });
});

describe('PreEncoded replies', () => {
  it('are sent as they are: a cached encoded field concatenated after the other fields decodes as one message', async () => {
    const padding = Uint8Array.from({ length: 100_000 }, (_, i) => i % 251);
    // Protobuf messages concatenate: field 2 encoded once, field 1 encoded per call.
    const cachedField = toBinary(EchoResponseSchema, create(EchoResponseSchema, { padding }));
    const service = implement(EchoService, {
      echo(request) {
        if (request.text === 'wrong type')
          return PreEncoded.of(EchoManyResponseSchema, new Uint8Array()) as unknown as PreEncoded<typeof EchoResponseSchema>;
        return PreEncoded.of(
          EchoResponseSchema,
          Buffer.concat([toBinary(EchoResponseSchema, create(EchoResponseSchema, { text: request.text })), cachedField]),
        );
      },
      echoMany: async function* () {},
      collect: () => ({}),
      chat: async function* () {},
    });
    const logged: string[] = [];
    const server = await startGrpcServer({
      port: 0,
      host: '127.0.0.1',
      services: [service],
      logger: { error: (_context, message) => logged.push(message) },
    });
    const transport = createGrpcTransport(`127.0.0.1:${server.port}`);
    try {
      const client = createClient(EchoService, transport);
      const response = await client.echo({ text: 'pre-encoded' });
      expect(response.text).toBe('pre-encoded');
      expect(Buffer.from(response.padding).equals(padding)).toBe(true);
      const error = await rejection(client.echo({ text: 'wrong type' }));
      expect(error.codeName).toBe('INTERNAL');
      expect(logged).toEqual(['unexpected error in gRPC handler']);
    } finally {
      transport.close();
      await server.close(1000);
    }
  });
});

describe('types derived from the descriptor (checked by tsc --noEmit)', () => {
  it('handlers and client methods take and return the generated message types', () => {
    type Handlers = ServiceHandlers<typeof EchoService>;
    expectTypeOf<Parameters<Handlers['echo']>>().toEqualTypeOf<[EchoRequest, CallContext]>();
    expectTypeOf(PreEncoded.of(EchoResponseSchema, new Uint8Array())).toExtend<Awaited<ReturnType<Handlers['echo']>>>();
    expectTypeOf(PreEncoded.of(EchoManyResponseSchema, new Uint8Array())).not.toExtend<Awaited<ReturnType<Handlers['echo']>>>();
    expectTypeOf<Handlers['chat']>().returns.toEqualTypeOf<AsyncIterable<MessageInitShape<typeof ChatResponseSchema>>>();
    type Client = ServiceClient<typeof EchoService>;
    expectTypeOf<Client['echo']>().returns.toEqualTypeOf<Promise<MessageShape<typeof EchoResponseSchema>>>();
    expectTypeOf<Client['echoMany']>().returns.toEqualTypeOf<AsyncIterable<EchoManyResponse>>();
    expectTypeOf<Client['collect']>().returns.toEqualTypeOf<Promise<CollectResponse>>();
    expectTypeOf<Parameters<Client['chat']>[0]>().toEqualTypeOf<
      AsyncIterable<MessageInitShape<typeof ChatRequestSchema>> | Iterable<MessageInitShape<typeof ChatRequestSchema>>
    >();
    expect(Object.keys(echoService.handlers).sort()).toEqual(['chat', 'collect', 'echo', 'echoMany']);
  });
});
