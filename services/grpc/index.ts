export { RpcError } from './rpc-error.js';
export { PreEncoded } from './pre-encoded.js';
export { implement, type ServiceImplementation } from './implement.js';
export type {
  BidiStreamingHandler,
  CallContext,
  ClientStreamingHandler,
  MethodHandler,
  ServerStreamingHandler,
  ServiceHandlers,
  UnaryHandler,
} from './handler.js';
export type { CallInterceptor, CallObserver, CallOutcome, ErrorLogger, ServerCall, ServerHooks } from './hooks.js';
export { startGrpcServer, type GrpcServer, type GrpcServerOptions, type TlsOptions } from './server.js';
export type { ServingStatus } from './health.js';
export {
  createClient,
  createGrpcTransport,
  type BidiStreamingCall,
  type CallOptions,
  type ClientMethod,
  type ClientStreamingCall,
  type GrpcTransport,
  type GrpcTransportOptions,
  type ServerStreamingCall,
  type ServiceClient,
  type UnaryCall,
} from './client.js';
export { methodPath } from './service-definition.js';
export { DEFAULT_MAX_MESSAGE_BYTES } from './limits.js';
export type { IntegerCeilings } from './request-check.js';
