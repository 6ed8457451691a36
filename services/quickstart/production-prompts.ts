import * as grpc from '@grpc/grpc-js';
import type { PromptVersion } from '../gen/ptune/v1/registry_pb.js';
import { RpcError } from '../grpc/index.js';
import type { RegistryClient } from '../client/index.js';
import { QUICKSTART_NAMESPACE } from './plan.js';

/** The version a task's alias points at, or undefined when the task or the alias does not exist. */
export async function aliasedVersion(registry: RegistryClient, task: string, alias: string): Promise<PromptVersion | undefined> {
  try {
    const response = await registry.getPrompt({
      prompt: { task: { namespace: QUICKSTART_NAMESPACE, name: task }, selector: { case: 'alias', value: alias } },
    });
    return response.version;
  } catch (err) {
    if (err instanceof RpcError && err.code === grpc.status.NOT_FOUND) return undefined;
    throw err;
  }
}
