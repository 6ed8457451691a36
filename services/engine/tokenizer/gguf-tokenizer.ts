/** The `tokenizer.ggml.*` metadata of a GGUF file ↔ a TokenizerSpec (SentencePiece "llama" model only). */
import type { GgufMetadata } from '../model/gguf-metadata.js';
import type { GgufValue } from '../model/gguf-types.js';
import { TokenType, type TokenizerSpec } from './spm.js';

export function tokenizerSpecFromMetadata(meta: GgufMetadata, source: string): TokenizerSpec {
  const model = meta.string('tokenizer.ggml.model');
  if (model !== 'llama') {
    throw new Error(`${source}: tokenizer model "${model}" is not supported (only SentencePiece "llama")`);
  }
  const pieces = meta.strings('tokenizer.ggml.tokens');
  const scores = meta.numbers('tokenizer.ggml.scores', ['f32']) ?? pieces.map(() => 0);
  const tokenTypes = meta.numbers('tokenizer.ggml.token_type', ['i32', 'u32']) ??
    pieces.map((p) => (/^<0x[0-9A-F]{2}>$/.test(p) ? TokenType.byte : TokenType.normal));
  const spec: TokenizerSpec = {
    pieces, scores, tokenTypes,
    bosId: meta.count('tokenizer.ggml.bos_token_id', 1),
    eosId: meta.count('tokenizer.ggml.eos_token_id', 2),
    unkId: meta.count('tokenizer.ggml.unknown_token_id', 0),
  };
  if (scores.length !== pieces.length || tokenTypes.length !== pieces.length) {
    throw new Error(`${source}: tokenizer has ${pieces.length} tokens but ${scores.length} scores and ${tokenTypes.length} token types`);
  }
  return spec;
}

export function tokenizerMetadata(spec: TokenizerSpec): [string, GgufValue][] {
  return [
    ['tokenizer.ggml.model', { type: 'string', value: 'llama' }],
    ['tokenizer.ggml.tokens', { type: 'array', itemType: 'string', items: spec.pieces.map((value) => ({ type: 'string', value })) }],
    ['tokenizer.ggml.scores', { type: 'array', itemType: 'f32', items: spec.scores.map((value) => ({ type: 'f32', value })) }],
    ['tokenizer.ggml.token_type', { type: 'array', itemType: 'i32', items: spec.tokenTypes.map((value) => ({ type: 'i32', value })) }],
    ['tokenizer.ggml.bos_token_id', { type: 'u32', value: spec.bosId }],
    ['tokenizer.ggml.eos_token_id', { type: 'u32', value: spec.eosId }],
    ['tokenizer.ggml.unknown_token_id', { type: 'u32', value: spec.unkId }],
  ];
}
