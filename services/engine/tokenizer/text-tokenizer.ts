/**
 * The one tokenizer interface the engine uses, whatever the source: SentencePiece from GGUF
 * metadata (spm.ts), byte-level BPE from GGUF metadata (bpe.ts), or a Hugging Face
 * `tokenizer.json` (hf-tokenizer.ts).
 */
export type TokenizerKind = 'spm' | 'bpe';

export interface EncodeOptions {
  /** prepend BOS; absent: the model's own rule (`addsBos`) */
  addBos?: boolean;
  /**
   * the text continues text encoded before it (an output after its input): no SentencePiece
   * dummy-prefix space is added. Byte-level BPE has no such space; the option changes nothing there.
   */
  continuation?: boolean;
  /**
   * the text of control tokens (e.g. "<|im_start|>", "<s>") becomes those tokens, as in a
   * rendered chat template; off by default so user data can never inject control tokens.
   * User-defined added tokens are always matched, as llama.cpp and Hugging Face do.
   */
  parseSpecial?: boolean;
}

export interface TextTokenizer {
  readonly kind: TokenizerKind;
  readonly vocabSize: number;
  /** undefined when the model has no BOS token (Qwen) */
  readonly bosId: number | undefined;
  readonly eosId: number;
  /** the padding id (a model without one pads with EOS; padded positions are masked out anyway) */
  readonly padId: number;
  /** whether the model's own rule prepends BOS to a sequence */
  readonly addsBos: boolean;
  encode(text: string, options?: EncodeOptions): number[];
  /** text of `ids`; control tokens produce nothing */
  decode(ids: readonly number[]): string;
  /** the stored text of one token (e.g. "▁the", "Ġthe", "<|endoftext|>") */
  tokenText(id: number): string;
  /** ids of control tokens (BOS, EOS, chat markers …) */
  readonly specialIds: ReadonlySet<number>;
}

/** `ids` with BOS in front when `options.addBos` (absent: the model's own rule) asks for it */
export function withBos(tokenizer: Pick<TextTokenizer, 'bosId' | 'addsBos'>, ids: number[], options: EncodeOptions): number[] {
  if (!(options.addBos ?? tokenizer.addsBos)) return ids;
  if (tokenizer.bosId === undefined) throw new Error('this tokenizer has no BOS token');
  return [tokenizer.bosId, ...ids];
}

export function checkTokenId(id: number, vocabSize: number): void {
  if (!Number.isInteger(id) || id < 0 || id >= vocabSize) {
    throw new Error(`token id ${id} is outside the vocabulary (0..${vocabSize - 1})`);
  }
}
