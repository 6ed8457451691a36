import type { DescMessage, DescMethod, DescService, MessageShape } from '@bufbuild/protobuf';
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import type * as grpc from '@grpc/grpc-js';
import { PreEncoded } from './pre-encoded.js';
import { UndecodableRequest } from './request-check.js';

/** The HTTP/2 path of a method, e.g. "/ptune.v1.PromptRegistryService/GetPrompt". */
export function methodPath(method: DescMethod): string {
  return `/${method.parent.typeName}/${method.name}`;
}

/** Encodes a message; PreEncoded bytes (replies only, checked by the binding) go out as they are. */
export function serializer<Desc extends DescMessage>(desc: Desc): (message: MessageShape<Desc> | PreEncoded<Desc>) => Buffer {
  return (message) => {
    const bytes = message instanceof PreEncoded ? message.bytes : toBinary(desc, message);
    return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };
}

export function deserializer<Desc extends DescMessage>(desc: Desc): (bytes: Buffer) => MessageShape<Desc> {
  return (bytes) => fromBinary(desc, bytes);
}

/**
 * Decodes a request; bytes that are not a valid encoding (truncated, invalid UTF-8 in a string …)
 * become an UndecodableRequest, which the binding refuses with INVALID_ARGUMENT (a throw here would
 * make grpc-js answer INTERNAL).
 */
export function requestDeserializer<Desc extends DescMessage>(desc: Desc): (bytes: Buffer) => MessageShape<Desc> | UndecodableRequest {
  return (bytes) => {
    try {
      return fromBinary(desc, bytes);
    } catch (error) {
      return new UndecodableRequest(desc.typeName, error instanceof Error ? error.message : String(error));
    }
  };
}

/** A grpc-js ServiceDefinition (paths, binary codecs, streaming flags) from a protobuf-es descriptor. */
export function createServiceDefinition(service: DescService): grpc.ServiceDefinition {
  return Object.fromEntries(
    service.methods.map((method) => [
      method.localName,
      {
        path: methodPath(method),
        originalName: method.name,
        requestStream: method.methodKind === 'client_streaming' || method.methodKind === 'bidi_streaming',
        responseStream: method.methodKind === 'server_streaming' || method.methodKind === 'bidi_streaming',
        requestSerialize: serializer(method.input),
        requestDeserialize: requestDeserializer(method.input),
        responseSerialize: serializer(method.output),
        responseDeserialize: deserializer(method.output),
      },
    ]),
  );
}
