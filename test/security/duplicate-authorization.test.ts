/**
 * Two `authorization` headers on one call (which grpc-js clients cannot send, but other clients do):
 * Node's HTTP/2 server keeps only the first value of a header it defines as single-valued, so grpc-js
 * and the guard see one token, and the call runs as the first. This sends such a request as raw
 * HTTP/2 frames and checks what happens (services/auth/README.md documents it).
 */
import net from 'node:net';
import { create, toBinary } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateTaskRequestSchema } from '../../services/gen/ptune/v1/registry_pb.js';
import { startSecureServer, type SecureServer } from './support/secure-server.js';

/** One HTTP/2 frame. */
function frame(type: number, flags: number, stream: number, payload: Uint8Array): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head.writeUInt8(type, 3);
  head.writeUInt8(flags, 4);
  head.writeUInt32BE(stream, 5);
  return Buffer.concat([head, payload]);
}

/** HPACK "literal header field without indexing, new name", no Huffman (names and values < 127 bytes). */
function literal(name: string, value: string): Buffer {
  const [n, v] = [Buffer.from(name), Buffer.from(value)];
  return Buffer.concat([Buffer.from([0x00, n.length]), n, Buffer.from([v.length]), v]);
}

async function sendWithTwoTokens(port: number, path: string, body: Uint8Array, first: string, second: string): Promise<void> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  const headers = Buffer.concat([
    literal(':method', 'POST'),
    literal(':scheme', 'http'),
    literal(':path', path),
    literal(':authority', `127.0.0.1:${port}`),
    literal('content-type', 'application/grpc'),
    literal('te', 'trailers'),
    literal('authorization', `Bearer ${first}`),
    literal('authorization', `Bearer ${second}`),
  ]);
  const message = Buffer.concat([Buffer.from([0]), Buffer.from(Uint32Array.of(0).buffer), Buffer.from(body)]);
  message.writeUInt32BE(body.length, 1);
  socket.write(Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'));
  socket.write(frame(0x4, 0, 0, new Uint8Array())); // SETTINGS
  socket.write(frame(0x4, 0x1, 0, new Uint8Array())); // SETTINGS ACK (of the server's)
  socket.write(frame(0x1, 0x4, 1, headers)); // HEADERS, END_HEADERS
  socket.write(frame(0x0, 0x1, 1, message)); // DATA, END_STREAM
  // the answer is not parsed here (HPACK with Huffman); what the call did is read from the database
  await new Promise((resolve) => setTimeout(resolve, 1500));
  socket.destroy();
}

describe('two authorization headers on one call', () => {
  let env: SecureServer;
  beforeAll(async () => {
    env = await startSecureServer();
  }, 60_000);
  afterAll(() => env?.close());

  it('runs as the first token: the second is dropped by the HTTP/2 layer before grpc-js', async () => {
    const alpha = await env.token('alpha', 'admin');
    const beta = await env.token('beta', 'admin');
    const path = '/ptune.v1.PromptRegistryService/CreateTask';
    const request = (namespace: string) =>
      toBinary(CreateTaskRequestSchema, create(CreateTaskRequestSchema, { task: { namespace, name: 'twice' } }));
    await sendWithTwoTokens(env.server.port, path, request('alpha'), alpha, beta);
    await sendWithTwoTokens(env.server.port, path, request('beta'), alpha, beta);
    const tasks = await env.prisma.task.findMany({ where: { name: 'twice' }, select: { namespace: true } });
    // alpha's token may create in alpha; beta's request ran as alpha too, and was refused (PERMISSION_DENIED)
    expect(tasks.map((t) => t.namespace)).toEqual(['alpha']);
    const audit = await env.prisma.auditEvent.findMany({ where: { action: 'task.create' }, select: { actor: true, namespace: true } });
    expect(audit).toEqual([{ actor: alpha.slice(4, 16), namespace: 'alpha' }]);
  }, 30_000);
});
