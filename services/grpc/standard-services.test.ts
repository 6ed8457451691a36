import { createRequire } from 'node:module';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fromBinary } from '@bufbuild/protobuf';
import type { GenService, GenServiceMethods } from '@bufbuild/protobuf/codegenv2';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { PromptRegistryService } from '../gen/ptune/v1/registry_pb.js';
import { EchoService } from '../gen/ptune/testing/v1/echo_pb.js';
import { createClient, createGrpcTransport, implement, RpcError, startGrpcServer, type GrpcServer, type ServiceHandlers } from './index.js';

/** Handlers that all answer UNIMPLEMENTED: enough to serve a real descriptor in these tests. */
function stubHandlers<S extends GenService<GenServiceMethods>>(service: S): ServiceHandlers<S> {
  const fail = (name: string) => () => {
    throw new RpcError(grpc.status.UNIMPLEMENTED, `${name} is a test stub`);
  };
  return Object.fromEntries(service.methods.map((method) => [method.localName, fail(method.name)])) as unknown as ServiceHandlers<S>;
}

/** Stock clients built by @grpc/proto-loader from the protocols' own .proto files. */
const protoLoaderOptions = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true };
const reflectionProtoPath = path.join(
  path.dirname(createRequire(import.meta.url).resolve('@grpc/reflection/package.json')),
  'build/proto/grpc/reflection/v1/reflection.proto',
);

interface ReflectionResponse {
  list_services_response?: { service: { name: string }[] };
  file_descriptor_response?: { file_descriptor_proto: Buffer[] };
  error_response?: { error_code: number; error_message: string };
}
type ReflectionClient = grpc.Client & {
  ServerReflectionInfo(): grpc.ClientDuplexStream<object, ReflectionResponse>;
};
type HealthClient = grpc.Client & {
  Check(request: { service: string }, callback: (error: grpc.ServiceError | null, response?: { status: string }) => void): void;
};

function loadClient<T>(protoFile: string, servicePath: string[], address: string): T {
  let node: unknown = grpc.loadPackageDefinition(protoLoader.loadSync(protoFile, protoLoaderOptions));
  for (const key of servicePath) node = (node as Record<string, unknown>)[key];
  const Constructor = node as new (address: string, credentials: grpc.ChannelCredentials) => T;
  return new Constructor(address, grpc.credentials.createInsecure());
}

async function reflect(client: ReflectionClient, request: object): Promise<ReflectionResponse> {
  const call = client.ServerReflectionInfo();
  const response = new Promise<ReflectionResponse>((resolve, reject) => {
    call.once('data', resolve);
    call.once('error', reject);
  });
  call.write(request);
  call.end();
  return response;
}

function checkHealth(client: HealthClient, service: string): Promise<string> {
  return new Promise((resolve, reject) =>
    client.Check({ service }, (error, response) => (error ? reject(RpcError.from(error)) : resolve(response?.status ?? ''))),
  );
}

describe('standard services over loopback', () => {
  let server: GrpcServer;
  let reflection: ReflectionClient;
  let health: HealthClient;

  beforeAll(async () => {
    server = await startGrpcServer({
      port: 0,
      host: '127.0.0.1',
      services: [implement(PromptRegistryService, stubHandlers(PromptRegistryService)), implement(EchoService, stubHandlers(EchoService))],
    });
    const address = `127.0.0.1:${server.port}`;
    reflection = loadClient<ReflectionClient>(reflectionProtoPath, ['grpc', 'reflection', 'v1', 'ServerReflection'], address);
    health = loadClient<HealthClient>(healthProtoPath, ['grpc', 'health', 'v1', 'Health'], address);
  });

  afterAll(async () => {
    reflection.close();
    health.close();
    await server.close(1000);
  });

  it('reflection lists the served services and the health service', async () => {
    const response = await reflect(reflection, { list_services: '*' });
    const names = response.list_services_response?.service.map((service) => service.name).sort();
    expect(names).toEqual(['grpc.health.v1.Health', 'ptune.testing.v1.EchoService', 'ptune.v1.PromptRegistryService']);
  });

  it('reflection returns the file declaring a service, with its imports', async () => {
    const response = await reflect(reflection, { file_containing_symbol: 'ptune.v1.PromptRegistryService' });
    const files = (response.file_descriptor_response?.file_descriptor_proto ?? []).map((bytes) =>
      fromBinary(FileDescriptorProtoSchema, bytes),
    );
    expect(files.map((file) => file.name).sort()).toEqual([
      'google/protobuf/timestamp.proto',
      'ptune/v1/common.proto',
      'ptune/v1/registry.proto',
    ]);
    const registry = files.find((file) => file.name === 'ptune/v1/registry.proto');
    const methods = registry?.service.find((service) => service.name === 'PromptRegistryService')?.method ?? [];
    expect(methods.find((method) => method.name === 'GetPromptStream')).toMatchObject({
      inputType: '.ptune.v1.GetPromptStreamRequest',
      outputType: '.ptune.v1.GetPromptStreamResponse',
      serverStreaming: true,
    });
  });

  it('reflection answers NOT_FOUND for an unknown symbol', async () => {
    const response = await reflect(reflection, { file_containing_symbol: 'ptune.v1.NoSuchThing' });
    expect(response.error_response?.error_code).toBe(grpc.status.NOT_FOUND);
  });

  it('health reports SERVING for the server and each service, NOT_FOUND for others', async () => {
    expect(await checkHealth(health, '')).toBe('SERVING');
    expect(await checkHealth(health, 'ptune.v1.PromptRegistryService')).toBe('SERVING');
    await expect(checkHealth(health, 'ptune.v1.Nope')).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
    server.setServingStatus('ptune.v1.PromptRegistryService', 'NOT_SERVING');
    expect(await checkHealth(health, 'ptune.v1.PromptRegistryService')).toBe('NOT_SERVING');
    server.setServingStatus('ptune.v1.PromptRegistryService', 'SERVING');
  });

  it('the real PromptRegistryService descriptor is served at its contract paths', async () => {
    const transport = createGrpcTransport(`127.0.0.1:${server.port}`);
    try {
      const registry = createClient(PromptRegistryService, transport);
      const error = await registry
        .getPrompt({ prompt: { task: { namespace: 'ns', name: 't' }, selector: { case: 'latest', value: true } } })
        .then(
          () => undefined,
          (reason: unknown) => reason,
        );
      expect(error).toMatchObject({ code: grpc.status.UNIMPLEMENTED, message: 'GetPrompt is a test stub' });
    } finally {
      transport.close();
    }
  });
});

describe('a port in use', () => {
  it('fails with the address and writes no grpc-js log line of its own', async () => {
    const services = [implement(EchoService, stubHandlers(EchoService))];
    const first = await startGrpcServer({ port: 0, host: '127.0.0.1', services });
    const written: unknown[][] = [];
    const spy = vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void written.push(args));
    try {
      await expect(startGrpcServer({ port: first.port, host: '127.0.0.1', services })).rejects.toThrow(
        `gRPC server cannot listen on 127.0.0.1:${first.port}`,
      );
      expect(written).toEqual([]);
    } finally {
      spy.mockRestore();
      await first.close(0);
    }
  });
});

describe('graceful shutdown', () => {
  it('lets running calls finish within the grace period, then refuses new ones', async () => {
    let release = (): void => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    let started = (): void => undefined;
    const running = new Promise<void>((resolve) => (started = resolve));
    const server = await startGrpcServer({
      port: 0,
      host: '127.0.0.1',
      services: [
        implement(EchoService, {
          ...stubHandlers(EchoService),
          echo: async (request) => {
            started();
            await released;
            return { text: request.text };
          },
        }),
      ],
    });
    const transport = createGrpcTransport(`127.0.0.1:${server.port}`);
    const client = createClient(EchoService, transport);
    try {
      const inFlight = client.echo({ text: 'finishing' });
      await running; // the call is in the handler (a fixed sleep raced the call's arrival on a loaded machine)
      const closed = server.close(30_000);
      release();
      expect((await inFlight).text).toBe('finishing');
      await closed;
      await expect(client.echo({ text: 'late' }, { timeoutMs: 2000 })).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    } finally {
      transport.close();
    }
  });

  it('cancels calls still running when the grace period ends', async () => {
    let started = (): void => undefined;
    const running = new Promise<void>((resolve) => (started = resolve));
    const server = await startGrpcServer({
      port: 0,
      host: '127.0.0.1',
      services: [
        implement(EchoService, {
          ...stubHandlers(EchoService),
          async *echoMany(request, context) {
            started();
            for (let index = 0; !context.signal.aborted; index++) {
              yield { text: request.text, index };
              await sleep(5);
            }
          },
        }),
      ],
    });
    const transport = createGrpcTransport(`127.0.0.1:${server.port}`);
    try {
      const stream = createClient(EchoService, transport).echoMany({ text: 'endless' });
      const consumed = (async () => {
        for await (const _ of stream) {
          // drain until the server cuts the stream
        }
      })();
      await running;
      await server.close(100);
      const error = await consumed.then(
        () => undefined,
        (reason: unknown) => reason,
      );
      expect(error).toBeInstanceOf(RpcError);
      expect((error as RpcError).code).toBe(grpc.status.CANCELLED);
    } finally {
      transport.close();
    }
  });
});
