import { create, toBinary } from '@bufbuild/protobuf';
import { GetPromptResponseSchema } from '../gen/ptune/v1/registry_pb.js';
import { PreEncoded } from '../grpc/index.js';
import type { ServedPrompt } from './serve-prompt.js';

type EncodedResponse = PreEncoded<typeof GetPromptResponseSchema>;

/** `safetensors` is field 5, length-delimited: tag (5 << 3) | 2. */
const SAFETENSORS_TAG = (5 << 3) | 2;

/**
 * GetPromptResponse in wire form without copying the payload on every call.
 *
 * protobuf-es' `toBinary` would copy a 328 KB payload twice per call (its buffer grows by doubling,
 * then `finish()` slices). Protobuf messages concatenate and field 5 is the last field, so the
 * response is `toBinary(metadata fields) ++ tag ++ length ++ payload`, byte for byte what `toBinary`
 * of the whole message gives. Each payload (an immutable, cached Uint8Array) remembers its last
 * assembled response; while the metadata encodes to the same bytes (the usual case: same version,
 * same aliases) that response is reused and the call copies nothing. The memo lives as long as the
 * payload object (a WeakMap), so it is dropped with the payload's cache entry; memory for payloads
 * served whole is therefore up to twice the cache's byte budget.
 */
export class GetPromptResponses {
  private readonly last = new WeakMap<Uint8Array, { head: Uint8Array; response: Buffer }>();

  encode(served: ServedPrompt): EncodedResponse {
    const head = toBinary(
      GetPromptResponseSchema,
      create(GetPromptResponseSchema, {
        version: served.version,
        notModified: served.payload === undefined,
        payloadSha256: served.payloadSha256,
        payloadDtype: served.payloadDtype,
      }),
    );
    const payload = served.payload;
    if (payload === undefined || payload.byteLength === 0) return PreEncoded.of(GetPromptResponseSchema, head);
    const memo = this.last.get(payload);
    if (memo !== undefined && Buffer.compare(memo.head, head) === 0) return PreEncoded.of(GetPromptResponseSchema, memo.response);
    const response = Buffer.concat([head, lengthDelimitedPrefix(SAFETENSORS_TAG, payload.byteLength), payload]);
    this.last.set(payload, { head, response });
    return PreEncoded.of(GetPromptResponseSchema, response);
  }
}

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
