import type { DescMessage } from '@bufbuild/protobuf';

/**
 * A reply that is already in wire form: the adapter sends `bytes` as they are (no `create`, no
 * `toBinary`). For hot paths whose reply is mostly cached bytes, e.g. a large `bytes` field encoded
 * once: protobuf messages concatenate, so `toBinary(small fields) ++ cached field` is a valid
 * encoding. The caller answers for `bytes` being a valid encoding of `schema`; the adapter checks
 * only that `schema` is the method's output type.
 */
export class PreEncoded<Desc extends DescMessage = DescMessage> {
  private constructor(
    readonly schema: Desc,
    readonly bytes: Uint8Array,
  ) {}

  static of<Desc extends DescMessage>(schema: Desc, bytes: Uint8Array): PreEncoded<Desc> {
    return new PreEncoded(schema, bytes);
  }
}
