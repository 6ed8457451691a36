import {
  create,
  type DescMessage,
  type DescMethod,
  type DescService,
  type Message,
  type MessageInitShape,
  type MessageShape,
} from '@bufbuild/protobuf';
import type { GenService, GenServiceMethods } from '@bufbuild/protobuf/codegenv2';
import * as grpc from '@grpc/grpc-js';
import { writeMessage } from './backpressure.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from './limits.js';
import { RpcError } from './rpc-error.js';
import { deserializer, methodPath, serializer } from './service-definition.js';

/** Per-call options. */
export interface CallOptions {
  /** Relative deadline in milliseconds. */
  readonly timeoutMs?: number;
  /** Absolute deadline (wins over timeoutMs). */
  readonly deadline?: Date;
  /** Request headers. */
  readonly metadata?: grpc.Metadata | Readonly<Record<string, string>>;
  /** Cancels the call when aborted (the call then fails with CANCELLED). */
  readonly signal?: AbortSignal;
}

type Requests<I extends DescMessage> = AsyncIterable<MessageInitShape<I>> | Iterable<MessageInitShape<I>>;

export type UnaryCall<I extends DescMessage, O extends DescMessage> = (
  request: MessageInitShape<I>,
  options?: CallOptions,
) => Promise<MessageShape<O>>;

export type ServerStreamingCall<I extends DescMessage, O extends DescMessage> = (
  request: MessageInitShape<I>,
  options?: CallOptions,
) => AsyncIterable<MessageShape<O>>;

export type ClientStreamingCall<I extends DescMessage, O extends DescMessage> = (
  requests: Requests<I>,
  options?: CallOptions,
) => Promise<MessageShape<O>>;

export type BidiStreamingCall<I extends DescMessage, O extends DescMessage> = (
  requests: Requests<I>,
  options?: CallOptions,
) => AsyncIterable<MessageShape<O>>;

type MethodShape = GenServiceMethods[string];

/** The client function of one generated method, chosen by its kind. Failures throw RpcError. */
export type ClientMethod<M extends MethodShape> = M extends { methodKind: 'unary' }
  ? UnaryCall<M['input'], M['output']>
  : M extends { methodKind: 'server_streaming' }
    ? ServerStreamingCall<M['input'], M['output']>
    : M extends { methodKind: 'client_streaming' }
      ? ClientStreamingCall<M['input'], M['output']>
      : BidiStreamingCall<M['input'], M['output']>;

/** One function per method of a generated service, keyed by the method's local (camelCase) name. */
export type ServiceClient<S extends GenService<GenServiceMethods>> = {
  [K in keyof S['method']]: ClientMethod<S['method'][K]>;
};

export interface GrpcTransportOptions {
  /** Default: insecure (plaintext). */
  readonly credentials?: grpc.ChannelCredentials;
  /** Largest message accepted from the server; default DEFAULT_MAX_MESSAGE_BYTES. */
  readonly maxReceiveMessageBytes?: number;
  /** Largest message sent to the server; default DEFAULT_MAX_MESSAGE_BYTES. */
  readonly maxSendMessageBytes?: number;
  /** Further grpc-js channel options. */
  readonly channelOptions?: grpc.ChannelOptions;
}

/** One channel to a server, shared by the clients of all its services. */
export interface GrpcTransport {
  readonly channel: grpc.Client;
  close(): void;
}

/** Opens a channel to `address` ("host:port"). */
export function createGrpcTransport(address: string, options: GrpcTransportOptions = {}): GrpcTransport {
  const channel = new grpc.Client(address, options.credentials ?? grpc.credentials.createInsecure(), {
    'grpc.max_receive_message_length': options.maxReceiveMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
    'grpc.max_send_message_length': options.maxSendMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
    ...options.channelOptions,
  });
  return { channel, close: () => channel.close() };
}

/** A typed client for a generated service over a transport. */
export function createClient<S extends GenService<GenServiceMethods>>(service: S, transport: GrpcTransport): ServiceClient<S> {
  return Object.fromEntries(
    (service as DescService).methods.map((method) => [method.localName, methodCaller(method, transport.channel)]),
  ) as ServiceClient<S>;
}

function methodCaller(method: DescMethod, channel: grpc.Client): unknown {
  const path = methodPath(method);
  const serialize = serializer(method.input);
  const deserialize = deserializer(method.output);
  const toRequest = (value: unknown): Message => create(method.input, value as MessageInitShape<DescMessage>);
  switch (method.methodKind) {
    case 'unary':
      return (request: unknown, options: CallOptions = {}) =>
        options.signal?.aborted
          ? Promise.reject(abortedBeforeStart())
          : new Promise<Message>((resolve, reject) => {
              const call = channel.makeUnaryRequest(
                path,
                serialize,
                deserialize,
                toRequest(request),
                toMetadata(options),
                toCallOptions(options),
                (error, response) => (error || !response ? reject(RpcError.from(error)) : resolve(response)),
              );
              cancelOnAbort(call, options.signal);
            });
    case 'server_streaming':
      return (request: unknown, options: CallOptions = {}) => {
        if (options.signal?.aborted) return failing(abortedBeforeStart());
        const call = channel.makeServerStreamRequest(
          path,
          serialize,
          deserialize,
          toRequest(request),
          toMetadata(options),
          toCallOptions(options),
        );
        cancelOnAbort(call, options.signal);
        return receive(call, () => undefined);
      };
    case 'client_streaming':
      return (requests: Requests<DescMessage>, options: CallOptions = {}) =>
        options.signal?.aborted
          ? Promise.reject(abortedBeforeStart())
          : new Promise<Message>((resolve, reject) => {
              let sendError: unknown;
              const call = channel.makeClientStreamRequest(
                path,
                serialize,
                deserialize,
                toMetadata(options),
                toCallOptions(options),
                (error, response) => (error || !response ? reject(sendError ?? RpcError.from(error)) : resolve(response)),
              );
              cancelOnAbort(call, options.signal);
              sendAll(call, requests, toRequest).catch((error: unknown) => {
                sendError = error;
                call.cancel();
              });
            });
    case 'bidi_streaming':
      return (requests: Requests<DescMessage>, options: CallOptions = {}) => {
        if (options.signal?.aborted) return failing(abortedBeforeStart());
        let sendError: unknown;
        const call = channel.makeBidiStreamRequest(path, serialize, deserialize, toMetadata(options), toCallOptions(options));
        cancelOnAbort(call, options.signal);
        sendAll(call, requests, toRequest).catch((error: unknown) => {
          sendError = error;
          call.cancel();
        });
        return receive(call, () => sendError);
      };
  }
}

function toMetadata(options: CallOptions): grpc.Metadata {
  if (options.metadata instanceof grpc.Metadata) return options.metadata;
  const metadata = new grpc.Metadata();
  for (const [key, value] of Object.entries(options.metadata ?? {})) metadata.set(key, value);
  return metadata;
}

function toCallOptions(options: CallOptions): grpc.CallOptions {
  if (options.deadline) return { deadline: options.deadline };
  if (options.timeoutMs !== undefined) return { deadline: Date.now() + options.timeoutMs };
  return {};
}

function cancelOnAbort(call: grpc.Call, signal: AbortSignal | undefined): void {
  if (signal === undefined) return;
  const cancel = (): void => call.cancel();
  signal.addEventListener('abort', cancel, { once: true });
  // a long-lived signal (a worker's stop signal) outlives many calls: each call lets go of it when it ends
  call.on('status', () => signal.removeEventListener('abort', cancel));
}

function abortedBeforeStart(): RpcError {
  return new RpcError(grpc.status.CANCELLED, 'call cancelled by the client before it started');
}

function failing(error: RpcError): AsyncIterable<never> {
  return { [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(error) }) };
}

/** Yields the response stream; stopping early cancels the call; errors become RpcError. */
async function* receive(
  call: grpc.ClientReadableStream<Message> | grpc.ClientDuplexStream<Message, Message>,
  sendError: () => unknown,
): AsyncGenerator<Message> {
  let finished = false;
  try {
    for await (const message of call) yield message as Message;
    finished = true;
  } catch (error) {
    finished = true;
    throw sendError() ?? RpcError.from(error);
  } finally {
    if (!finished) call.cancel();
  }
}

/** Sends every request with backpressure, then half-closes; stops quietly once the call has ended. */
async function sendAll(
  call: grpc.ClientWritableStream<Message> | grpc.ClientDuplexStream<Message, Message>,
  requests: Requests<DescMessage>,
  toRequest: (value: unknown) => Message,
): Promise<void> {
  const ended = new AbortController();
  call.once('status', () => ended.abort());
  for await (const request of requests) {
    if (ended.signal.aborted) return;
    try {
      await writeMessage(call, toRequest(request), ended.signal);
    } catch (error) {
      if (ended.signal.aborted) return;
      throw error;
    }
  }
  call.end();
}
