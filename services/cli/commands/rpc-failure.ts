/**
 * The CLI's one line for a failed call, "STATUS: message (hint)". grpc-js words a connection failure
 * for its own debugging ("No connection established. Last error: Error: connect ECONNREFUSED
 * 127.0.0.1:1. Resolution note: "); the line says what it means instead.
 */
import type { RpcError } from '../../grpc/index.js';

const SOCKET_ERRORS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ETIMEDOUT: 'timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found',
};

export function describeRpcFailure(err: RpcError, server: string, hint = ''): string {
  const connection = /^No connection established\. Last error: (?:Error: )?(.*?)(?:\.? Resolution note:.*)?$/s.exec(err.message);
  if (connection === null) return `${err.codeName}: ${err.message}${hint}`;
  const code = /\b(E[A-Z_]{3,})\b/.exec(connection[1])?.[1];
  const reason = code !== undefined && SOCKET_ERRORS[code] !== undefined ? SOCKET_ERRORS[code] : connection[1];
  return `${err.codeName}: cannot connect to ${server} (${reason})${hint}`;
}
