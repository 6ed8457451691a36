/** Seeds a registry with the benchmark's prompt (alias "production"); returns GetPrompt's encoded response. */
import { toBinary } from '@bufbuild/protobuf';
import { writeSafetensors } from '../../services/engine/formats/safetensors.js';
import { GetPromptResponseSchema, PromptRegistryService, TokenizerKind, WeightsFormat } from '../../services/gen/ptune/v1/registry_pb.js';
import { createClient, createGrpcTransport } from '../../services/grpc/index.js';
import type { RunningServer } from '../../services/server/index.js';
import { BENCH_PROMPT, GET_PROMPT_REQUEST } from './bench-prompt.js';

export async function seed(server: RunningServer): Promise<Uint8Array> {
  const transport = createGrpcTransport(server.address);
  const client = createClient(PromptRegistryService, transport);
  const weights = new TextEncoder().encode('metadata-only registration: weights live elsewhere');
  await client.registerBaseModel([
    {
      part: {
        case: 'header',
        value: {
          name: BENCH_PROMPT.model,
          weightsFormat: WeightsFormat.SAFETENSORS,
          tokenizerKind: TokenizerKind.SENTENCEPIECE,
          architecture: {
            family: 'llama',
            hiddenSize: BENCH_PROMPT.width,
            numLayers: 32,
            numAttentionHeads: 32,
            numKeyValueHeads: 8,
            vocabSize: 32000,
            contextLength: 4096,
          },
          sizeBytes: BigInt(weights.byteLength),
        },
      },
    },
    { part: { case: 'chunk', value: weights } },
  ]);
  await client.createTask({ task: GET_PROMPT_REQUEST.prompt.task });
  const values = Float32Array.from({ length: BENCH_PROMPT.rows * BENCH_PROMPT.width }, (_, i) => Math.sin(i) / 10);
  const file = writeSafetensors({ prompt_embeddings: { dtype: 'F32', shape: [BENCH_PROMPT.rows, BENCH_PROMPT.width], data: values } });
  await client.createPromptVersion({
    spec: { task: GET_PROMPT_REQUEST.prompt.task, baseModel: BENCH_PROMPT.model, alias: 'production' },
    payload: { case: 'safetensors', value: file },
  });
  const response = await client.getPrompt(GET_PROMPT_REQUEST);
  transport.close();
  return toBinary(GetPromptResponseSchema, response);
}
