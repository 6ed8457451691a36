import { create, toBinary } from '@bufbuild/protobuf';
import { WireType } from '@bufbuild/protobuf/wire';
import { GetPromptResponseSchema } from '../gen/ptune/v1/registry_pb.js';
import { PreEncoded } from '../grpc/index.js';
import type { ServedPrompt } from './serve-prompt.js';

type EncodedResponse = PreEncoded<typeof GetPromptResponseSchema>;

/** The tag of `safetensors`, a length-delimited field (the last field, so the result is canonical). */
const SAFETENSORS_TAG = (GetPromptResponseSchema.field.safetensors.number << 3) | WireType.LengthDelimited;

/**
 * GetPromptResponse in wire form without copying the payload on every call.
 *
 * protobuf-es' `toBinary` would copy a 328 KB payload twice per call (its buffer grows by doubling,
 * then `finish()` slices). Protobuf messages concatenate and field 5 is the last field, so the
 * response is `toBinary(metadata fields) ++ tag ++ length ++ payload`, byte for byte what `toBinary`
 * of the whole message gives. Each payload (an immutable, cached Uint8Array) remembers its last
 * assembled response with the key of its metadata; while the key is the same (same version row,
 * same aliases: the usual case) that response is sent again and the call encodes and copies nothing.
 * The memo lives as long as the payload object (a WeakMap), so it goes with the payload's cache
 * entry; memory for payloads served whole is therefore up to twice the cache's byte budget.
 */
export class GetPromptResponses {
  private readonly last = new WeakMap<Uint8Array, { key: string; response: Buffer }>();

  encode(served: ServedPrompt): EncodedResponse {
    const payload = served.payload;
    if (payload === undefined || payload.byteLength === 0) return PreEncoded.of(GetPromptResponseSchema, encodeMetadata(served));
    const key = metadataKey(served);
    const memo = this.last.get(payload);
    if (memo?.key === key) return PreEncoded.of(GetPromptResponseSchema, memo.response);
    const response = Buffer.concat([encodeMetadata(served), lengthDelimitedPrefix(SAFETENSORS_TAG, payload.byteLength), payload]);
    this.last.set(payload, { key, response });
    return PreEncoded.of(GetPromptResponseSchema, response);
  }
}

/** Every GetPromptResponse field but `safetensors`. */
function encodeMetadata(served: ServedPrompt): Uint8Array {
  return toBinary(
    GetPromptResponseSchema,
    create(GetPromptResponseSchema, {
      version: served.version,
      notModified: served.payload === undefined,
      payloadSha256: served.payloadSha256,
      payloadDtype: served.payloadDtype,
    }),
  );
}

/** What the metadata of a response with a payload depends on (see ServedPrompt.versionId). */
function metadataKey(served: ServedPrompt): string {
  return JSON.stringify([served.versionId, served.version.aliases, served.payloadSha256, served.payloadDtype]);
}

/** The tag and the varint length that precede a length-delimited field's bytes (tag < 128). */
function lengthDelimitedPrefix(tag: number, length: number): Uint8Array {
  const bytes = [tag];
  for (let value = length; ; value = Math.floor(value / 128)) {
    if (value < 128) {
      bytes.push(value);
      break;
    }
    bytes.push((value % 128) | 128);
  }
  return Uint8Array.from(bytes);
}
