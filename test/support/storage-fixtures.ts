import { createHash, randomBytes } from 'node:crypto';
import type { BaseModel, PrismaClient, Task } from '../../services/storage/generated/client.js';
import type { NewPromptVersion } from '../../services/storage/versions/create-prompt-version.js';

const unique = (): string => randomBytes(4).toString('hex');
export const sha256Hex = (bytes: Uint8Array | string): string => createHash('sha256').update(bytes).digest('hex');

export function seedBaseModel(prisma: PrismaClient, overrides: { weightsBlobKey?: string } = {}): Promise<BaseModel> {
  const fingerprint = sha256Hex(unique());
  return prisma.baseModel.create({
    data: {
      name: `model-${unique()}`,
      fingerprint,
      family: 'llama',
      hiddenSize: 64,
      numLayers: 5,
      numHeads: 8,
      numKvHeads: 4,
      headDim: 8,
      vocabSize: 512,
      contextLength: 512,
      tokenizerKind: 'llama-spm',
      weightsFormat: 'gguf',
      weightsBlobKey: overrides.weightsBlobKey ?? `model/${fingerprint}`,
      weightsSizeBytes: 1_185_376n,
      createdBy: 'test',
    },
  });
}

export function seedTask(prisma: PrismaClient): Promise<Task> {
  return prisma.task.create({ data: { namespace: 'test', name: `task-${unique()}`, description: 'a task', createdBy: 'test' } });
}

/** A valid version row for `task` on `model`, pointing at a (not necessarily stored) prompt blob. */
export function versionData(task: Task, model: BaseModel, overrides: Partial<NewPromptVersion> = {}): NewPromptVersion {
  const sha256 = sha256Hex(unique());
  return {
    taskId: task.id,
    baseModelId: model.id,
    method: 'PROMPT_TUNING',
    numVirtualTokens: 8,
    tokenDim: model.hiddenSize,
    initMethod: 'TEXT',
    initText: 'Classify the sentiment:',
    dtype: 'F32',
    shape: [8, model.hiddenSize],
    blobKey: `prompt/${sha256}`,
    sha256,
    sizeBytes: 8 * model.hiddenSize * 4 + 96,
    metrics: { eval_loss: 1.25 },
    hyperparameters: { lr: 0.03, steps: 300 },
    createdBy: 'test',
    ...overrides,
  };
}
