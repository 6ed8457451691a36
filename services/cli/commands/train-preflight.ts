/**
 * What `ptune train` checks and prepares before it submits a job: every data file readable and the
 * base model registered before anything is created, then each task reused as it is or created.
 */
import { access, constants } from 'node:fs/promises';
import * as grpc from '@grpc/grpc-js';
import type { TaskRef } from '../../gen/ptune/v1/common_pb.js';
import type { PromptRegistryService } from '../../gen/ptune/v1/registry_pb.js';
import { RpcError, type ServiceClient } from '../../grpc/index.js';

type RegistryClient = ServiceClient<typeof PromptRegistryService>;

/** Refuses, naming the flag and file, a data file that cannot be read, then a base model that is not registered. */
export async function checkTrainInputs(
  registry: RegistryClient,
  model: string,
  files: readonly { flag: string; path: string }[],
): Promise<void> {
  for (const { flag, path } of files) {
    await access(path, constants.R_OK).catch((err: NodeJS.ErrnoException) => {
      throw new Error(`${flag} ${path} cannot be read (${err.code ?? err.message})`);
    });
  }
  await registry.getBaseModel({ name: model }); // NOT_FOUND names the model
}

/**
 * The task, created if it does not exist yet. An existing task is trained as it is: its description
 * (set by whoever created it, e.g. the quick start) is not ours to compare with.
 */
export async function ensureTask(registry: RegistryClient, task: TaskRef, createdBy: string): Promise<void> {
  try {
    await registry.getTask({ task });
  } catch (err) {
    if (!(err instanceof RpcError) || err.code !== grpc.status.NOT_FOUND) throw err;
    await registry.createTask({ task, createdBy });
  }
}
