/**
 * Default cap on one gRPC message, both directions, server and client. Above grpc's 4 MiB default so
 * that a 4 MiB tensor plus its metadata fits in a unary call; larger payloads use the streaming RPCs.
 */
export const DEFAULT_MAX_MESSAGE_BYTES = 8 * 1024 * 1024;
