/** Test data: a generated tiny model stored as a base model, tasks, and JSONL datasets. */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { writeGeneratedModel } from '../../../services/engine/model/generate.js';
import type { BaseModel, BlobStore, PrismaClient, Task } from '../../../services/storage/index.js';

export async function seedTinyModel(
  prisma: PrismaClient,
  blobs: BlobStore,
  name = `tiny-${randomBytes(3).toString('hex')}`,
): Promise<BaseModel> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ptune-model-'));
  const file = await writeGeneratedModel('tiny', 7, path.join(dir, 'tiny.gguf'));
  const bytes = await readFile(file.path);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const key = `model/${sha256}`;
  await blobs.put(key, bytes, { sha256 });
  const c = file.config;
  return prisma.baseModel.upsert({
    where: { fingerprint: sha256 },
    update: {},
    create: {
      name,
      fingerprint: sha256,
      family: 'llama',
      hiddenSize: c.dim,
      numLayers: c.nLayers,
      numHeads: c.nHeads,
      numKvHeads: c.nKvHeads,
      headDim: c.dim / c.nHeads,
      vocabSize: c.vocabSize,
      contextLength: c.contextLength,
      tokenizerKind: 'sentencepiece',
      weightsFormat: 'gguf',
      weightsBlobKey: key,
      weightsSizeBytes: BigInt(bytes.length),
      createdBy: 'test',
    },
  });
}

export function seedTask(prisma: PrismaClient, name = `task-${randomBytes(3).toString('hex')}`): Promise<Task> {
  return prisma.task.create({ data: { namespace: 'test', name, createdBy: 'test' } });
}

/** `count` small examples the tiny model's generated tokenizer can encode. */
export function datasetText(count: number, offset = 0): string {
  const words = ['red', 'blue', 'green', 'cat', 'dog', 'sun', 'moon', 'tree'];
  return Array.from({ length: count }, (_, i) => {
    const a = words[(i + offset) % words.length];
    const b = words[(i * 3 + offset + 1) % words.length];
    return JSON.stringify({ input: `the ${a} and the ${b}`, output: ` ${b}` });
  }).join('\n');
}
