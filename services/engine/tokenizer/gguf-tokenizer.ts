/**
 * The tokenizer a GGUF file embeds (`tokenizer.ggml.*`): SentencePiece ("llama") or byte-level BPE
 * ("gpt2", pre-tokenizer named by `tokenizer.ggml.pre`), with the model's BOS rule. Writing back is
 * SentencePiece only (the generated models' tokenizer).
 */
import type { GgufMetadata } from '../model/gguf-metadata.js';
import type { GgufValue } from '../model/gguf-types.js';
import { BpeTokenizer } from './bpe.js';
import { preTokenizer } from './pre-tokenizers.js';
import { SpmTokenizer, type TokenizerSpec } from './spm.js';
import { TokenType } from './token-type.js';
import type { TextTokenizer } from './text-tokenizer.js';

const SUPPORTED_MODELS = ['llama (SentencePiece)', 'gpt2 (byte-level BPE)'];

export function textTokenizerFromMetadata(meta: GgufMetadata, source: string): TextTokenizer {
  const model = meta.string('tokenizer.ggml.model');
  if (model === 'llama') return new SpmTokenizer(tokenizerSpecFromMetadata(meta, source));
  if (model === 'gpt2') return bpeTokenizerFromMetadata(meta, source);
  throw new Error(`${source}: tokenizer.ggml.model "${model}" is not supported (supported: ${SUPPORTED_MODELS.join(', ')})`);
}

/** the chat template a GGUF file carries (`tokenizer.chat_template`), if any */
export function ggufChatTemplate(meta: GgufMetadata): string | undefined {
  return meta.has('tokenizer.chat_template') ? meta.string('tokenizer.chat_template') : undefined;
}

function optionalBool(meta: GgufMetadata, key: string, source: string): boolean | undefined {
  const v = meta.entries.get(key);
  if (v === undefined) return undefined;
  if (v.type !== 'bool') throw new Error(`${source}: metadata "${key}" must be a bool (got ${v.type})`);
  return v.value;
}

/** a token id that may be absent; -1 (or its u32 spelling 0xFFFFFFFF) also means "none" */
function optionalId(meta: GgufMetadata, key: string): number | undefined {
  const v = meta.entries.get(key);
  if (
    v === undefined ||
    ((v.type === 'i32' || v.type === 'i64') && Number(v.value) === -1) ||
    (v.type === 'u32' && v.value === 0xffffffff)
  ) {
    return undefined;
  }
  return meta.count(key);
}

function tokenTypes(meta: GgufMetadata, tokens: string[], source: string): number[] {
  const types =
    meta.numbers('tokenizer.ggml.token_type', ['i32', 'u32']) ??
    tokens.map((p) => (/^<0x[0-9A-F]{2}>$/.test(p) ? TokenType.byte : TokenType.normal));
  if (types.length !== tokens.length) throw new Error(`${source}: tokenizer has ${tokens.length} tokens but ${types.length} token types`);
  return types;
}

function bpeTokenizerFromMetadata(meta: GgufMetadata, source: string): BpeTokenizer {
  const tokens = meta.strings('tokenizer.ggml.tokens');
  const pre = preTokenizer(meta.has('tokenizer.ggml.pre') ? meta.string('tokenizer.ggml.pre') : undefined, source);
  return new BpeTokenizer({
    tokens,
    tokenTypes: tokenTypes(meta, tokens, source),
    merges: meta.strings('tokenizer.ggml.merges'),
    preTokenizer: pre,
    bosId: optionalId(meta, 'tokenizer.ggml.bos_token_id'),
    eosId: meta.count('tokenizer.ggml.eos_token_id'),
    padId: optionalId(meta, 'tokenizer.ggml.padding_token_id'),
    // llama.cpp's defaults: Llama 3 vocabularies add BOS, other byte-level ones do not
    addBos: optionalBool(meta, 'tokenizer.ggml.add_bos_token', source) ?? pre.ignoreMerges,
    source,
  });
}

function tokenizerSpecFromMetadata(meta: GgufMetadata, source: string): TokenizerSpec {
  const model = meta.string('tokenizer.ggml.model');
  if (model !== 'llama') throw new Error(`${source}: tokenizer.ggml.model "${model}" is not SentencePiece ("llama")`);
  const pieces = meta.strings('tokenizer.ggml.tokens');
  const scores = meta.numbers('tokenizer.ggml.scores', ['f32']) ?? pieces.map(() => 0);
  if (scores.length !== pieces.length) throw new Error(`${source}: tokenizer has ${pieces.length} tokens but ${scores.length} scores`);
  return {
    pieces,
    scores,
    tokenTypes: tokenTypes(meta, pieces, source),
    bosId: meta.count('tokenizer.ggml.bos_token_id', 1),
    eosId: meta.count('tokenizer.ggml.eos_token_id', 2),
    unkId: meta.count('tokenizer.ggml.unknown_token_id', 0),
    padId: optionalId(meta, 'tokenizer.ggml.padding_token_id'),
    addBos: optionalBool(meta, 'tokenizer.ggml.add_bos_token', source),
    addSpacePrefix: optionalBool(meta, 'tokenizer.ggml.add_space_prefix', source),
  };
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
