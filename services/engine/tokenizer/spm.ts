/**
 * SentencePiece-BPE tokenizer with byte fallback, encoding by llama.cpp's rule: optional BOS, the
 * text split around added tokens (user-defined always, control tokens only with `parseSpecial`),
 * each text piece given the dummy-prefix space when it starts the text or follows an added token,
 * one symbol per UTF-8 character (or its `<0xXX>` byte pieces when the character is not a piece),
 * then repeatedly merge the adjacent pair whose concatenation is a piece with the highest score
 * (leftmost pair on ties; pair-merge.ts).
 *
 * Merges and character lookups only target normal and user-defined pieces, so text such as "<s>"
 * or "<0x0A>" never turns into a control or byte token by merging.
 */
import { mergePairs } from './pair-merge.js';
import { addedTokenSplitter, type SpecialSplitter } from './special-split.js';
import { checkTokenId, withBos, type EncodeOptions, type TextTokenizer } from './text-tokenizer.js';
import { TokenType } from './token-type.js';

export interface TokenizerSpec {
  /** pieces use U+2581 "▁" for a space, as SentencePiece stores them */
  pieces: string[];
  scores: number[];
  /** TokenType codes, one per piece */
  tokenTypes: number[];
  bosId: number;
  eosId: number;
  unkId: number;
  /** absent: EOS pads */
  padId?: number;
  /** the model's BOS rule (GGUF `tokenizer.ggml.add_bos_token`); absent: true */
  addBos?: boolean;
  /** SentencePiece's add_dummy_prefix (GGUF `tokenizer.ggml.add_space_prefix`); absent: true */
  addSpacePrefix?: boolean;
}

const SPACE = '▁';
const utf8Encoder = new TextEncoder();
const BYTE_PIECE = /^<0x([0-9A-F]{2})>$/;

export class SpmTokenizer implements TextTokenizer {
  readonly kind = 'spm';
  readonly bosId: number;
  readonly eosId: number;
  readonly unkId: number;
  readonly padId: number;
  readonly addsBos: boolean;
  readonly specialIds: ReadonlySet<number>;
  private readonly spec: TokenizerSpec;
  private readonly splitter: SpecialSplitter;
  private readonly pieces: string[];
  private readonly scores: number[];
  private readonly types: number[];
  /** mergeable pieces (normal / user-defined) → id */
  private readonly lookup = new Map<string, number>();
  /** byte value → id of its `<0xXX>` piece */
  private readonly byteIds = new Int32Array(256).fill(-1);
  /** id → byte value for byte pieces, else -1 */
  private readonly byteOf: Int16Array;
  /** no merge can make a symbol longer than this (spares building long keys that cannot match) */
  private readonly longestPiece: number;

  constructor(spec: TokenizerSpec) {
    const n = spec.pieces.length;
    if (n === 0) throw new Error('tokenizer has no pieces');
    if (spec.scores.length !== n || spec.tokenTypes.length !== n) {
      throw new Error(`tokenizer arrays disagree: ${n} pieces, ${spec.scores.length} scores, ${spec.tokenTypes.length} token types`);
    }
    for (const [name, id] of [
      ['bos', spec.bosId],
      ['eos', spec.eosId],
      ['unk', spec.unkId],
      ['pad', spec.padId ?? spec.eosId],
    ] as const) {
      if (!Number.isInteger(id) || id < 0 || id >= n) throw new Error(`tokenizer ${name} id ${id} is outside 0..${n - 1}`);
    }
    this.spec = spec;
    this.pieces = spec.pieces;
    this.scores = spec.scores;
    this.types = spec.tokenTypes;
    this.bosId = spec.bosId;
    this.eosId = spec.eosId;
    this.unkId = spec.unkId;
    this.padId = spec.padId ?? spec.eosId;
    this.addsBos = spec.addBos ?? true;
    ({ splitter: this.splitter, controlIds: this.specialIds } = addedTokenSplitter(spec.pieces, spec.tokenTypes));
    this.byteOf = new Int16Array(n).fill(-1);
    this.longestPiece = spec.pieces.reduce((m, p) => Math.max(m, p.length), 0);
    for (let id = 0; id < n; id++) {
      const piece = spec.pieces[id];
      const type = spec.tokenTypes[id];
      const byteMatch = BYTE_PIECE.exec(piece);
      if (type === TokenType.byte && byteMatch) {
        const b = parseInt(byteMatch[1], 16);
        this.byteOf[id] = b;
        if (this.byteIds[b] < 0) this.byteIds[b] = id;
      } else if ((type === TokenType.normal || type === TokenType.userDefined) && !this.lookup.has(piece)) {
        this.lookup.set(piece, id);
      }
    }
  }

  get vocabSize(): number {
    return this.pieces.length;
  }

  tokenText(id: number): string {
    checkTokenId(id, this.pieces.length);
    return this.pieces[id];
  }

  /** the spec this tokenizer was built from (for writing it back to a file) */
  toSpec(): TokenizerSpec {
    return this.spec;
  }

  encode(text: string, options: EncodeOptions = {}): number[] {
    const out: number[] = [];
    const spacePrefix = this.spec.addSpacePrefix ?? true;
    let afterSpecial = !options.continuation;
    for (const fragment of this.splitter.split(text, options.parseSpecial ?? false)) {
      if ('id' in fragment) {
        out.push(fragment.id);
        afterSpecial = true;
      } else {
        for (const id of this.encodePiece(spacePrefix && afterSpecial ? ' ' + fragment.text : fragment.text)) out.push(id);
        afterSpecial = false;
      }
    }
    return withBos(this, out, options);
  }

  private encodePiece(text: string): number[] {
    const source = text.replaceAll(' ', SPACE);
    const ids: number[] = [];
    // text of each symbol; byte-fallback symbols get '' and never merge
    const strs: string[] = [];
    for (const ch of source) {
      const id = this.lookup.get(ch);
      if (id !== undefined) {
        ids.push(id);
        strs.push(ch);
        continue;
      }
      for (const b of utf8Encoder.encode(ch)) {
        const byteId = this.byteIds[b];
        ids.push(byteId >= 0 ? byteId : this.unkId);
        strs.push('');
      }
    }
    return this.merge(ids, strs);
  }

  /** byte-fallback symbols (text '') never merge; a merged symbol is always a piece */
  private merge(ids: number[], strs: string[]): number[] {
    const merged = mergePairs(strs, (left, right) => {
      if (left === '' || right === '' || left.length + right.length > this.longestPiece) return undefined;
      const id = this.lookup.get(left + right);
      return id === undefined ? undefined : this.scores[id];
    });
    return merged.map((m) => (m.text === '' ? ids[m.first] : (this.lookup.get(m.text) as number)));
  }

  /**
   * Text of `ids`: control tokens (BOS/EOS) produce nothing, byte pieces are reassembled as UTF-8,
   * "▁" becomes a space, and the first piece after BOS loses its leading space (llama2.c).
   */
  decode(ids: readonly number[]): string {
    const bytes: number[] = [];
    let afterBos = false;
    for (const id of ids) {
      const piece = this.tokenText(id);
      const type = this.types[id];
      if (type === TokenType.control) {
        afterBos = id === this.bosId;
        continue;
      }
      if (this.byteOf[id] >= 0) {
        bytes.push(this.byteOf[id]);
      } else {
        let text = piece.replaceAll(SPACE, ' ');
        if (afterBos && text.startsWith(' ')) text = text.slice(1);
        for (const b of utf8Encoder.encode(text)) bytes.push(b);
      }
      afterBos = false;
    }
    // a space that went through byte fallback comes back as "▁" bytes
    return new TextDecoder().decode(new Uint8Array(bytes)).replaceAll(SPACE, ' ');
  }
}
