import { randomUUID } from 'node:crypto';
import { addAbortSignal, type Readable } from 'node:stream';
import { setImmediate } from 'node:timers/promises';
import { create, type DescMessage, type DescMethod, type Message, type MessageInitShape } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import { writeMessage } from './backpressure.js';
import type { CallContext } from './handler.js';
import type { ErrorLogger, ServerCall, ServerHooks } from './hooks.js';
import type { ServiceImplementation } from './implement.js';
import { PreEncoded } from './pre-encoded.js';
import { checkRequest, type IntegerCeilings } from './request-check.js';
import { RpcError } from './rpc-error.js';
import { methodPath } from './service-definition.js';

const END_CONFIRMATION_TURNS = 8;

type UntypedHandler = (input: unknown, context: CallContext) => unknown;
type Reply = MessageInitShape<DescMessage>;
/** precheck: the request's validation, run before the interceptors (request streams check each message as it is read) */
type Run = <T>(call: ServerCall, body: (context: CallContext) => Promise<T>, precheck?: () => void) => Promise<T>;

export type ResolvedHooks = ServerHooks & { readonly logger: ErrorLogger; readonly integerCeilings?: IntegerCeilings };

/** grpc-js handlers for every method of a service implementation, keyed like its ServiceDefinition. */
export function bindService(implementation: ServiceImplementation, hooks: ResolvedHooks): grpc.UntypedServiceImplementation {
  const bound: grpc.UntypedServiceImplementation = {};
  for (const method of implementation.service.methods) {
    const handler = implementation.handlers[method.localName];
    if (typeof handler !== 'function') {
      throw new Error(`${implementation.service.typeName}: no handler for ${method.localName} (${methodPath(method)})`);
    }
    bound[method.localName] = bindMethod(method, handler as UntypedHandler, hooks);
  }
  return bound;
}

function bindMethod(method: DescMethod, handler: UntypedHandler, hooks: ResolvedHooks): grpc.UntypedHandleCall {
  const run = callRunner(method, hooks);
  const check = (request: unknown): void => checkRequest(method.input, request as Message, hooks.integerCeilings);
  const reply = (value: unknown): Message => create(method.output, value as Reply);
  const streamReplies = async (
    call: grpc.ServerWritableStream<Message, Message> | grpc.ServerDuplexStream<Message, Message>,
    input: unknown,
    context: CallContext,
  ) => {
    for await (const value of handler(input, context) as AsyncIterable<unknown>) {
      await writeMessage(call, reply(value), context.signal);
    }
  };
  switch (method.methodKind) {
    case 'unary':
      return (call: grpc.ServerUnaryCall<Message, Message | PreEncoded>, callback: grpc.sendUnaryData<Message | PreEncoded>) => {
        run(
          call,
          async (context) => unaryReply(method, await handler(call.request, context)),
          () => check(call.request),
        ).then(
          (message) => callback(null, message),
          (status: grpc.StatusObject) => callback(status),
        );
      };
    case 'server_streaming':
      return (call: grpc.ServerWritableStream<Message, Message>) => {
        run(
          call,
          (context) => streamReplies(call, call.request, context),
          () => check(call.request),
        ).then(
          () => call.end(),
          (status: grpc.StatusObject) => call.emit('error', status),
        );
      };
    case 'client_streaming':
      return (call: grpc.ServerReadableStream<Message, Message>, callback: grpc.sendUnaryData<Message>) => {
        run(call, async (context) => reply(await handler(readMessages(call, context.signal, check), context))).then(
          (message) => callback(null, message),
          (status: grpc.StatusObject) => callback(status),
        );
      };
    case 'bidi_streaming':
      return (call: grpc.ServerDuplexStream<Message, Message>) => {
        run(call, (context) => streamReplies(call, readMessages(call, context.signal, check), context)).then(
          () => call.end(),
          (status: grpc.StatusObject) => call.emit('error', status),
        );
      };
  }
}

/** A unary handler's reply as the serializer takes it: a message, or PreEncoded bytes of the output type. */
function unaryReply(method: DescMethod, value: unknown): Message | PreEncoded {
  if (!(value instanceof PreEncoded)) return create(method.output, value as Reply);
  if (value.schema.typeName !== method.output.typeName) {
    throw new Error(`${methodPath(method)} replied with PreEncoded ${value.schema.typeName}; it must be ${method.output.typeName}`);
  }
  return value;
}

/**
 * Validates the request, runs interceptors then the handler body with a CallContext; turns any
 * failure into the status to send, and reports the outcome to the observer.
 */
function callRunner(method: DescMethod, hooks: ResolvedHooks): Run {
  const path = methodPath(method);
  return async (call, body, precheck) => {
    const started = performance.now();
    const controller = new AbortController();
    // grpc-js also emits 'cancelled' when a finished call's stream closes: stop listening once the
    // handler is done, so a completed call does not build an error and abort a signal nobody watches.
    const cancel = (): void => controller.abort(new RpcError(grpc.status.CANCELLED, 'call cancelled by the client'));
    call.once('cancelled', cancel);
    const context: CallContext = {
      methodPath: path,
      metadata: call.metadata,
      peer: call.getPeer(),
      deadline: call.getDeadline(),
      signal: controller.signal,
    };
    let code = grpc.status.OK;
    try {
      precheck?.();
      for (const intercept of hooks.interceptors ?? []) await intercept(call, path);
      return await body(context);
    } catch (error) {
      const status = toStatus(error, controller.signal, path, hooks.logger);
      code = status.code;
      throw status;
    } finally {
      call.removeListener('cancelled', cancel);
      hooks.observe?.({ methodPath: path, methodKind: method.methodKind, code, durationSeconds: (performance.now() - started) / 1000 });
    }
  };
}

/** RpcError keeps its status; after a cancel, CANCELLED; anything else is logged and becomes INTERNAL. */
function toStatus(error: unknown, signal: AbortSignal, path: string, logger: ErrorLogger): grpc.StatusObject {
  if (error instanceof RpcError) return error.toStatus();
  if (signal.aborted) return (signal.reason as RpcError).toStatus();
  const reference = randomUUID().slice(0, 8);
  logger.error({ err: error, methodPath: path, reference }, 'unexpected error in gRPC handler');
  return new RpcError(grpc.status.INTERNAL, `internal error (reference ${reference}; details in the server log)`).toStatus();
}

/**
 * The request stream, each message checked; after a cancel, iteration fails with the CANCELLED RpcError.
 *
 * Node's http2 turns a client's cancel (RST_STREAM) into a normal end of the request stream, and
 * grpc-js reports the cancel itself a couple of event-loop turns later (2 measured on Node 20). So an
 * end is confirmed only after a few turns without a cancel, lest a cut-off upload look complete.
 * Upload protocols still declare their size and sha256 up front, which catches any remaining case.
 */
async function* readMessages(stream: Readable, signal: AbortSignal, check: (message: unknown) => void): AsyncGenerator<Message> {
  addAbortSignal(signal, stream);
  try {
    for await (const message of stream.iterator({ destroyOnReturn: false })) {
      check(message);
      yield message as Message;
    }
    for (let turn = 0; turn < END_CONFIRMATION_TURNS && !signal.aborted; turn++) await setImmediate();
  } catch (error) {
    if (!signal.aborted) throw error;
  }
  signal.throwIfAborted();
}
