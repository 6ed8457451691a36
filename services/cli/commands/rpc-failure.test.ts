import * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { createClient, createGrpcTransport, RpcError } from '../../grpc/index.js';
import { PromptRegistryService } from '../../gen/ptune/v1/registry_pb.js';
import { describeRpcFailure } from './rpc-failure.js';

describe('describeRpcFailure', () => {
  it('says what a refused connection means, without grpc-js debugging text', async () => {
    // a real grpc-js failure: nothing listens on port 1
    const transport = createGrpcTransport('127.0.0.1:1');
    const failure = await createClient(PromptRegistryService, transport)
      .listBaseModels({}, { timeoutMs: 5000 })
      .then(
        () => undefined,
        (err: unknown) => err as RpcError,
      );
    transport.close();
    expect(failure?.codeName).toBe('UNAVAILABLE');
    const line = describeRpcFailure(failure!, '127.0.0.1:1', ' (is `ptune serve` running at 127.0.0.1:1?)');
    expect(line).toBe('UNAVAILABLE: cannot connect to 127.0.0.1:1 (connection refused) (is `ptune serve` running at 127.0.0.1:1?)');
  });

  it('keeps a server message as it is', () => {
    const err = new RpcError(grpc.status.UNAVAILABLE, 'the audit log cannot be written, so task.create was not run; retry later');
    expect(describeRpcFailure(err, 'h:1')).toBe('UNAVAILABLE: the audit log cannot be written, so task.create was not run; retry later');
    expect(describeRpcFailure(new RpcError(grpc.status.NOT_FOUND, 'task a/b not found'), 'h:1', ' (hint)')).toBe(
      'NOT_FOUND: task a/b not found (hint)',
    );
  });
});
