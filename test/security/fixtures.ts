/** Data the security tests push through the real services. */
import { createHash } from 'node:crypto';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { writeSafetensors } from '../../services/engine/formats/safetensors.js';
import { PayloadFormat, type CreatePromptVersionStreamRequestSchema } from '../../services/gen/ptune/v1/registry_pb.js';
import { DatasetFormat, type UploadDatasetRequestSchema } from '../../services/gen/ptune/v1/training_pb.js';
import type { RegisterBaseModelRequestSchema } from '../../services/gen/ptune/v1/registry_pb.js';
import { tinyModelBytes, TINY } from '../registry/fixtures.js';

export { TINY, tinyModelBytes };

export const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

export function promptBytes(rows = 4, width = TINY.hidden, seed = 0): Uint8Array {
  return writeSafetensors({
    prompt_embeddings: {
      dtype: 'F32',
      shape: [rows, width],
      data: Float32Array.from({ length: rows * width }, (_, i) => (((seed + i) % 97) - 48) / 100),
    },
  });
}

export function datasetBytes(count = 8, offset = 0): Uint8Array {
  const words = ['red', 'blue', 'green', 'cat', 'dog', 'sun', 'moon', 'tree'];
  const lines = Array.from({ length: count }, (_, i) =>
    JSON.stringify({ input: `the ${words[(i + offset) % 8]} and`, output: ` ${words[(i * 3 + offset + 1) % 8]}` }),
  );
  return new TextEncoder().encode(lines.join('\n'));
}

export function uploadRequests(bytes: Uint8Array, name = 'data.jsonl'): MessageInitShape<typeof UploadDatasetRequestSchema>[] {
  return [
    {
      part: {
        case: 'header',
        value: { name, format: DatasetFormat.JSONL_INPUT_OUTPUT, sizeBytes: BigInt(bytes.length), expectedSha256: sha256(bytes) },
      },
    },
    { part: { case: 'chunk', value: bytes } },
  ];
}

export function registerModelRequests(name: string, bytes: Uint8Array): MessageInitShape<typeof RegisterBaseModelRequestSchema>[] {
  return [
    { part: { case: 'header', value: { name, sizeBytes: BigInt(bytes.length), expectedSha256: sha256(bytes) } } },
    { part: { case: 'chunk', value: bytes } },
  ];
}

export function pushStreamRequests(
  namespace: string,
  task: string,
  bytes: Uint8Array,
  alias = '',
): MessageInitShape<typeof CreatePromptVersionStreamRequestSchema>[] {
  return [
    {
      part: {
        case: 'header',
        value: {
          spec: { task: { namespace, name: task }, baseModel: 'tiny', alias },
          format: PayloadFormat.SAFETENSORS,
          sizeBytes: BigInt(bytes.length),
          expectedSha256: sha256(bytes),
        },
      },
    },
    { part: { case: 'chunk', value: bytes } },
  ];
}
