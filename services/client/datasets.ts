/** Dataset upload: a JSONL file streamed to UploadDataset in chunks (never read whole). */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { UploadDatasetRequestSchema } from '../gen/ptune/v1/training_pb.js';
import type { TrainingClient } from './clients.js';
import { CHUNK_BYTES } from './prompts.js';

/** Uploads `file` (JSONL examples) and returns the dataset's sha256, the reference TrainPrompt takes. */
export async function uploadDataset(client: TrainingClient, file: string): Promise<string> {
  const info = await stat(file).catch(() => undefined);
  if (info === undefined || !info.isFile()) throw new Error(`${file} cannot be read`);
  async function* messages(): AsyncGenerator<MessageInitShape<typeof UploadDatasetRequestSchema>> {
    yield { part: { case: 'header', value: { name: file, sizeBytes: BigInt(info!.size) } } };
    for await (const chunk of createReadStream(file, { highWaterMark: CHUNK_BYTES }))
      yield { part: { case: 'chunk', value: chunk as Buffer } };
  }
  const response = await client.uploadDataset(messages());
  return response.dataset!.sha256;
}
