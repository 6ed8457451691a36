/** Prompt transfer: push a prompt (unary when small, streamed above the unary limit) and download one, verified. */
import { createHash } from 'node:crypto';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { Dtype } from '../gen/ptune/v1/common_pb.js';
import {
  PayloadFormat,
  type CreatePromptVersionStreamRequestSchema,
  type PromptSelectorSchema,
  type PromptVersionSpecSchema,
} from '../gen/ptune/v1/registry_pb.js';
import type { RegistryClient } from './clients.js';

/** The server's default unary limit (registry.proto): larger payloads go through the stream. */
const UNARY_LIMIT = 4 * 1024 * 1024;
/** The chunk size registry.proto recommends. */
export const CHUNK_BYTES = 1024 * 1024;

/** A safetensors prompt file, or a PEFT adapter (adapter_config.json + adapter_model.safetensors). */
export type PromptPayload = { kind: 'safetensors'; bytes: Uint8Array } | { kind: 'peft'; config: Uint8Array; bytes: Uint8Array };

export const sha256Hex = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** CreatePromptVersion up to the server's default unary limit, CreatePromptVersionStream above it. */
export async function pushPrompt(client: RegistryClient, spec: MessageInitShape<typeof PromptVersionSpecSchema>, payload: PromptPayload) {
  if (payload.bytes.byteLength + (payload.kind === 'peft' ? payload.config.byteLength : 0) <= UNARY_LIMIT) {
    return client.createPromptVersion({
      spec,
      payload:
        payload.kind === 'peft'
          ? { case: 'peftAdapter', value: { adapterConfigJson: payload.config, adapterModelSafetensors: payload.bytes } }
          : { case: 'safetensors', value: payload.bytes },
    });
  }
  async function* messages(): AsyncGenerator<MessageInitShape<typeof CreatePromptVersionStreamRequestSchema>> {
    yield {
      part: {
        case: 'header',
        value: {
          spec,
          format: payload.kind === 'peft' ? PayloadFormat.PEFT : PayloadFormat.SAFETENSORS,
          adapterConfigJson: payload.kind === 'peft' ? payload.config : new Uint8Array(),
          sizeBytes: BigInt(payload.bytes.byteLength),
          expectedSha256: sha256Hex(payload.bytes),
        },
      },
    };
    for (let at = 0; at < payload.bytes.byteLength; at += CHUNK_BYTES)
      yield { part: { case: 'chunk', value: payload.bytes.subarray(at, at + CHUNK_BYTES) } };
  }
  return client.createPromptVersionStream(messages());
}

/** GetPromptStream, reassembled and checked against the header's size and sha256. */
export async function downloadPrompt(
  client: RegistryClient,
  request: { prompt: MessageInitShape<typeof PromptSelectorSchema>; dtype: Dtype; ifNoneMatch: string },
) {
  let header;
  const chunks: Uint8Array[] = [];
  for await (const message of client.getPromptStream(request)) {
    if (message.part.case === 'header') header = message.part.value;
    else if (message.part.case === 'chunk') chunks.push(message.part.value);
  }
  if (header === undefined) throw new Error('the server sent no header');
  const bytes = Buffer.concat(chunks);
  if (!header.notModified && (bytes.byteLength !== Number(header.payloadSizeBytes) || sha256Hex(bytes) !== header.payloadSha256)) {
    throw new Error(
      `download damaged: got ${bytes.byteLength} bytes with sha256 ${sha256Hex(bytes)}, expected ${header.payloadSizeBytes} bytes with ${header.payloadSha256}`,
    );
  }
  return { header, bytes };
}
