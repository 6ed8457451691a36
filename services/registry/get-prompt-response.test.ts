import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { Dtype } from '../gen/ptune/v1/common_pb.js';
import { GetPromptResponseSchema, PromptVersionSchema } from '../gen/ptune/v1/registry_pb.js';
import { GetPromptResponses } from './get-prompt-response.js';
import type { ServedPrompt } from './serve-prompt.js';

const version = create(PromptVersionSchema, {
  task: { namespace: 'ns', name: 'task' },
  version: 3,
  dtype: Dtype.F32,
  shape: [20n, 4096n],
  aliases: ['production'],
});

function served(payload: Uint8Array | undefined, aliases = ['production']): ServedPrompt {
  return {
    versionId: '7b0c7c52-3f4e-4a35-9d3e-2f8f4c1e9a10',
    version: { ...version, aliases },
    payloadSha256: 'ab'.repeat(32),
    payloadDtype: Dtype.F32,
    payloadSizeBytes: payload?.byteLength ?? 7,
    payload,
  };
}

/** What toBinary of the whole message gives. */
function reference(prompt: ServedPrompt): Uint8Array {
  return toBinary(
    GetPromptResponseSchema,
    create(GetPromptResponseSchema, {
      version: prompt.version,
      notModified: prompt.payload === undefined,
      payloadSha256: prompt.payloadSha256,
      payloadDtype: prompt.payloadDtype,
      safetensors: prompt.payload,
    }),
  );
}

describe('GetPromptResponses', () => {
  it('encodes byte for byte what toBinary gives, for payload sizes around varint length boundaries', () => {
    const responses = new GetPromptResponses();
    for (const size of [1, 127, 128, 16_383, 16_384, 327_776, 2_097_152]) {
      const prompt = served(Uint8Array.from({ length: size }, (_, i) => (i * 7) % 256));
      expect(Buffer.from(responses.encode(prompt).bytes).equals(reference(prompt)), `payload of ${size} bytes`).toBe(true);
    }
  });

  it('encodes not-modified and empty payloads as the metadata alone', () => {
    const responses = new GetPromptResponses();
    for (const prompt of [served(undefined), served(new Uint8Array())]) {
      expect(Buffer.from(responses.encode(prompt).bytes).equals(reference(prompt))).toBe(true);
    }
    expect(fromBinary(GetPromptResponseSchema, responses.encode(served(undefined)).bytes).notModified).toBe(true);
  });

  it('reuses the last response of a payload while its metadata key is unchanged, and rebuilds it when the aliases change', () => {
    const responses = new GetPromptResponses();
    const payload = Uint8Array.from({ length: 1000 }, (_, i) => i % 256);
    const first = responses.encode(served(payload)).bytes;
    expect(responses.encode(served(payload)).bytes).toBe(first);
    const moved = served(payload, ['production', 'staging']);
    const afterMove = responses.encode(moved).bytes;
    expect(afterMove).not.toBe(first);
    expect(Buffer.from(afterMove).equals(reference(moved))).toBe(true);
    expect(fromBinary(GetPromptResponseSchema, afterMove).version?.aliases).toEqual(['production', 'staging']);
    // Two versions with the same bytes share one cached payload object: each gets its own metadata.
    const other: ServedPrompt = { ...moved, versionId: '0d6f2a8e-5b1c-4f7a-8e9d-3c2b1a0f9e8d', version: { ...moved.version, version: 4 } };
    expect(fromBinary(GetPromptResponseSchema, responses.encode(other).bytes).version?.version).toBe(4);
    expect(fromBinary(GetPromptResponseSchema, responses.encode(moved).bytes).version?.version).toBe(3);
  });
});
