/**
 * Byte-level BPE (GPT-2, Llama 3, Qwen, StarCoder …) from a vocabulary, its merge list and a
 * pre-tokenizer, encoding as llama.cpp does: split around added tokens, cut the text into words
 * with the pre-tokenizer, spell each word's UTF-8 bytes in the byte-level alphabet, then merge the
 * adjacent pair with the lowest merge rank (leftmost on ties) until none applies.
 */
import { fromByteLevel, toByteLevel } from './byte-level.js';
import { mergePairs } from './pair-merge.js';
import { preTokenize, type PreTokenizer } from './pre-tokenizers.js';
import { addedTokenSplitter, type SpecialSplitter } from './special-split.js';
import { TokenType } from './token-type.js';
import { checkTokenId, withBos, type EncodeOptions, type TextTokenizer } from './text-tokenizer.js';

export interface BpeSpec {
  /** token texts in the byte-level alphabet (added tokens: their literal text) */
  tokens: string[];
  /** TokenType codes, one per token */
  tokenTypes: number[];
  /** "left right" pairs, highest priority first */
  merges: string[];
  preTokenizer: PreTokenizer;
  bosId: number | undefined;
  eosId: number;
  padId: number | undefined;
  addBos: boolean;
  /** where the vocabulary came from, for errors */
  source: string;
}

const WORD_CACHE_LIMIT = 50_000;

export class BpeTokenizer implements TextTokenizer {
  readonly kind = 'bpe';
  readonly vocabSize: number;
  readonly bosId: number | undefined;
  readonly eosId: number;
  readonly padId: number;
  readonly addsBos: boolean;
  readonly specialIds: ReadonlySet<number>;
  private readonly tokens: string[];
  private readonly types: number[];
  private readonly ids = new Map<string, number>();
  /** "left right" → rank */
  private readonly ranks = new Map<string, number>();
  private readonly splitter: SpecialSplitter;
  private readonly pre: PreTokenizer;
  private readonly wordCache = new Map<string, number[]>();
  /** no merge can make a symbol longer than this (spares building long keys that cannot match) */
  private readonly longestToken: number;

  constructor(spec: BpeSpec) {
    const n = spec.tokens.length;
    if (n === 0) throw new Error(`${spec.source}: the vocabulary is empty`);
    if (spec.tokenTypes.length !== n) throw new Error(`${spec.source}: ${n} tokens but ${spec.tokenTypes.length} token types`);
    for (const [name, id] of [
      ['bos', spec.bosId],
      ['eos', spec.eosId],
      ['padding', spec.padId],
    ] as const) {
      if (id !== undefined && (!Number.isInteger(id) || id < 0 || id >= n))
        throw new Error(`${spec.source}: ${name} token id ${id} is outside 0..${n - 1}`);
    }
    if (spec.addBos && spec.bosId === undefined) throw new Error(`${spec.source}: the model adds BOS but has no BOS token id`);
    this.vocabSize = n;
    this.tokens = spec.tokens;
    this.types = spec.tokenTypes;
    this.bosId = spec.bosId;
    this.eosId = spec.eosId;
    this.padId = spec.padId ?? spec.eosId;
    this.addsBos = spec.addBos;
    this.pre = spec.preTokenizer;
    let longest = 0;
    spec.tokens.forEach((t, id) => {
      if (!this.ids.has(t)) this.ids.set(t, id);
      longest = Math.max(longest, t.length);
    });
    this.longestToken = longest;
    spec.merges.forEach((m, rank) => {
      const space = m.indexOf(' ', 1);
      if (space < 0) throw new Error(`${spec.source}: merge ${rank} "${m}" is not two tokens separated by a space`);
      if (!this.ranks.has(m)) this.ranks.set(m, rank);
    });
    ({ splitter: this.splitter, controlIds: this.specialIds } = addedTokenSplitter(spec.tokens, spec.tokenTypes));
  }

  encode(text: string, options: EncodeOptions = {}): number[] {
    const out: number[] = [];
    for (const fragment of this.splitter.split(text, options.parseSpecial ?? false)) {
      if ('id' in fragment) {
        out.push(fragment.id);
        continue;
      }
      for (const word of preTokenize(fragment.text, this.pre.patterns)) {
        for (const id of this.encodeWord(toByteLevel(word))) out.push(id);
      }
    }
    return withBos(this, out, options);
  }

  private encodeWord(word: string): number[] {
    const cached = this.wordCache.get(word);
    if (cached) return cached;
    const whole = this.ids.get(word);
    const ids = this.pre.ignoreMerges && whole !== undefined ? [whole] : this.merge(word);
    if (this.wordCache.size >= WORD_CACHE_LIMIT) this.wordCache.clear();
    this.wordCache.set(word, ids);
    return ids;
  }

  /** merges by rank (lowest first); a final symbol that is not a token falls back to its single characters */
  private merge(word: string): number[] {
    const merged = mergePairs([...word], (left, right) => {
      if (left.length + right.length > this.longestToken) return undefined;
      const rank = this.ranks.get(left + ' ' + right);
      return rank === undefined ? undefined : -rank;
    });
    const ids: number[] = [];
    for (const { text } of merged) {
      const id = this.ids.get(text);
      if (id !== undefined) {
        ids.push(id);
        continue;
      }
      for (const ch of text) {
        const charId = this.ids.get(ch);
        if (charId !== undefined) ids.push(charId);
      }
    }
    return ids;
  }

  decode(ids: readonly number[]): string {
    const bytes: number[] = [];
    const utf8 = new TextEncoder();
    for (const id of ids) {
      const text = this.tokenText(id);
      const type = this.types[id];
      if (type === TokenType.control) continue;
      const own = type === TokenType.userDefined ? undefined : fromByteLevel(text);
      bytes.push(...(own ?? utf8.encode(text)));
    }
    return new TextDecoder().decode(new Uint8Array(bytes));
  }

  tokenText(id: number): string {
    checkTokenId(id, this.vocabSize);
    return this.tokens[id];
  }
}
