import * as grpc from '@grpc/grpc-js';

/** Trailing-metadata key carrying RpcError.details as UTF-8 JSON. */
const DETAILS_KEY = 'ptune-error-details-bin';
/**
 * Longest status message and detail value sent, in characters. Messages quote request values (a
 * name that is not valid), and the status travels in HTTP/2 headers, which a client refuses past
 * 16 KiB (grpc-js then reports a protocol error instead of the status).
 */
const MAX_SENT_TEXT = 1024;

const clip = (text: string): string =>
  text.length <= MAX_SENT_TEXT ? text : `${text.slice(0, MAX_SENT_TEXT)}… (${text.length - MAX_SENT_TEXT} more characters)`;

/**
 * An error with a gRPC status. Thrown by handlers to answer with that status and message; thrown by
 * clients for every failed call. `details` carries machine-readable context (e.g. the field at fault)
 * and travels in trailing metadata.
 */
export class RpcError extends Error {
  override readonly name = 'RpcError';

  constructor(
    readonly code: grpc.status,
    message: string,
    readonly details: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }

  /** Status name as in the gRPC spec, e.g. "NOT_FOUND". */
  get codeName(): string {
    return grpc.status[this.code] ?? `CODE_${this.code}`;
  }

  /** The status object grpc-js sends for this error (long texts clipped). */
  toStatus(): grpc.StatusObject {
    const metadata = new grpc.Metadata();
    if (Object.keys(this.details).length > 0) {
      const details = Object.fromEntries(Object.entries(this.details).map(([key, value]) => [key, clip(value)]));
      metadata.set(DETAILS_KEY, Buffer.from(JSON.stringify(details), 'utf8'));
    }
    return { code: this.code, details: clip(this.message), metadata };
  }

  /** Converts a grpc-js client error (or anything thrown by a call) into an RpcError. */
  static from(error: unknown): RpcError {
    if (error instanceof RpcError) return error;
    if (isServiceError(error)) {
      return new RpcError(error.code, error.details, readDetails(error.metadata));
    }
    const message = error instanceof Error ? error.message : String(error);
    return new RpcError(grpc.status.UNKNOWN, message);
  }
}

function isServiceError(error: unknown): error is grpc.ServiceError {
  return (
    error instanceof Error &&
    typeof (error as Partial<grpc.ServiceError>).code === 'number' &&
    typeof (error as Partial<grpc.ServiceError>).details === 'string'
  );
}

function readDetails(metadata: grpc.Metadata | undefined): Record<string, string> {
  const raw = metadata?.get(DETAILS_KEY)[0];
  if (!Buffer.isBuffer(raw)) return {};
  try {
    const parsed: unknown = JSON.parse(raw.toString('utf8'));
    if (typeof parsed !== 'object' || parsed === null) return {};
    return Object.fromEntries(Object.entries(parsed).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
  } catch {
    return {};
  }
}
