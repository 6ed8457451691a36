import { status } from '@grpc/grpc-js';
import { expect } from 'vitest';
import { RpcError } from '../../services/grpc/index.js';

/** Awaits a call that must fail, and checks its gRPC status and a message fragment. */
export async function expectRpcError(call: Promise<unknown>, code: status, fragment: string | RegExp): Promise<RpcError> {
  const error = await call.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error, `expected ${status[code]}, the call succeeded`).toBeInstanceOf(RpcError);
  const rpc = error as RpcError;
  expect(rpc.codeName, rpc.message).toBe(status[code]);
  if (typeof fragment === 'string') expect(rpc.message).toContain(fragment);
  else expect(rpc.message).toMatch(fragment);
  return rpc;
}
