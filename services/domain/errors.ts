import { status } from '@grpc/grpc-js';
import { RpcError } from '../grpc/rpc-error.js';

/**
 * The one way a service refuses a call: registry, coordinator and auth raise a gRPC status through
 * these helpers. Every refusal names what to fix; `field` (a request field path such as
 * "spec.task.name") travels in the error details so clients can point at it.
 */
export const invalidArgument = (field: string, message: string): RpcError =>
  new RpcError(status.INVALID_ARGUMENT, `${field}: ${message}`, { field });

/** A request refused as a whole, no one field at fault (e.g. an empty request stream); the message says why. */
export const invalidRequest = (message: string): RpcError => new RpcError(status.INVALID_ARGUMENT, message);

export const notFound = (message: string, details: Record<string, string> = {}): RpcError =>
  new RpcError(status.NOT_FOUND, message, details);

/** A request field names something that does not exist (a task, a dataset, a base model). */
export const notFoundAt = (field: string, message: string): RpcError => new RpcError(status.NOT_FOUND, `${field}: ${message}`, { field });

export const alreadyExists = (message: string, details: Record<string, string> = {}): RpcError =>
  new RpcError(status.ALREADY_EXISTS, message, details);

/** A state change refused until the state is fixed (e.g. deleting a version an alias points at). */
export const failedPrecondition = (message: string, details: Record<string, string> = {}): RpcError =>
  new RpcError(status.FAILED_PRECONDITION, message, details);

/**
 * A compare-and-swap that lost: per the gRPC status guide, a failed client-specified test-and-set is
 * ABORTED (re-read, then retry the read-modify-write), not FAILED_PRECONDITION.
 */
export const aborted = (message: string, details: Record<string, string> = {}): RpcError => new RpcError(status.ABORTED, message, details);

export const resourceExhausted = (message: string, details: Record<string, string> = {}): RpcError =>
  new RpcError(status.RESOURCE_EXHAUSTED, message, details);

/** No credential, or one that is malformed, unknown or revoked. */
export const unauthenticated = (message: string): RpcError => new RpcError(status.UNAUTHENTICATED, message);

/** A known caller whose role or namespace does not cover the call. */
export const permissionDenied = (message: string): RpcError => new RpcError(status.PERMISSION_DENIED, message);

/** Something the call needs is down for now; retrying later may succeed (nothing was done). */
export const unavailable = (message: string): RpcError => new RpcError(status.UNAVAILABLE, message);

/** Stored bytes that no longer match their digest: the data is damaged, retrying will not help. */
export const dataLoss = (message: string, details: Record<string, string> = {}): RpcError =>
  new RpcError(status.DATA_LOSS, message, details);

/** Whether a database write failed on a unique constraint (Prisma's P2002), e.g. a racing idempotent create. */
export function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'P2002';
}
