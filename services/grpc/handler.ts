import type { DescMessage, MessageInitShape, MessageShape } from '@bufbuild/protobuf';
import type { GenService, GenServiceMethods } from '@bufbuild/protobuf/codegenv2';
import type * as grpc from '@grpc/grpc-js';
import type { PreEncoded } from './pre-encoded.js';

/** What a handler knows about the call it serves. */
export interface CallContext {
  /** HTTP/2 path, e.g. "/ptune.v1.PromptRegistryService/GetPrompt". */
  readonly methodPath: string;
  /** Request headers. */
  readonly metadata: grpc.Metadata;
  /** Remote address, e.g. "127.0.0.1:53412". */
  readonly peer: string;
  /** Client deadline (Infinity when none). */
  readonly deadline: grpc.Deadline;
  /** Aborted when the client cancels or the deadline passes: long waits must listen to it. */
  readonly signal: AbortSignal;
}

type MaybePromise<T> = T | Promise<T>;

/** A unary handler may reply with a PreEncoded message (already in wire form) instead of a message. */
export type UnaryHandler<I extends DescMessage, O extends DescMessage> = (
  request: MessageShape<I>,
  context: CallContext,
) => MaybePromise<MessageInitShape<O> | PreEncoded<O>>;

export type ServerStreamingHandler<I extends DescMessage, O extends DescMessage> = (
  request: MessageShape<I>,
  context: CallContext,
) => AsyncIterable<MessageInitShape<O>>;

export type ClientStreamingHandler<I extends DescMessage, O extends DescMessage> = (
  requests: AsyncIterable<MessageShape<I>>,
  context: CallContext,
) => MaybePromise<MessageInitShape<O>>;

export type BidiStreamingHandler<I extends DescMessage, O extends DescMessage> = (
  requests: AsyncIterable<MessageShape<I>>,
  context: CallContext,
) => AsyncIterable<MessageInitShape<O>>;

type MethodShape = GenServiceMethods[string];

/** The handler type of one generated method, chosen by its kind. */
export type MethodHandler<M extends MethodShape> = M extends { methodKind: 'unary' }
  ? UnaryHandler<M['input'], M['output']>
  : M extends { methodKind: 'server_streaming' }
    ? ServerStreamingHandler<M['input'], M['output']>
    : M extends { methodKind: 'client_streaming' }
      ? ClientStreamingHandler<M['input'], M['output']>
      : BidiStreamingHandler<M['input'], M['output']>;

/** One handler per method of a generated service, keyed by the method's local (camelCase) name. */
export type ServiceHandlers<S extends GenService<GenServiceMethods>> = {
  [K in keyof S['method']]: MethodHandler<S['method'][K]>;
};
