/**
 * A Hugging Face `tokenizer.json` (with its `tokenizer_config.json` when present) through
 * @huggingface/tokenizers: pure JavaScript, offline, exact on the Llama 3 and Qwen conformance
 * fixtures (see docs/tokenizers.md for the choice). This file adds what the library leaves to its
 * caller: validation that names the file and field, the BOS/EOS/pad ids, the model's BOS rule, and
 * keeping control-token text in user data plain text.
 */
import { Tokenizer } from '@huggingface/tokenizers';
import { checkTokenId, withBos, type EncodeOptions, type TextTokenizer, type TokenizerKind } from './text-tokenizer.js';

const SUPPORTED_MODELS = ['BPE', 'Unigram'];

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** a special token named in tokenizer_config.json: a string or `{"content": …}` */
function tokenName(config: Json, field: string, source: string): string | undefined {
  const v = config[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  if (isObject(v) && typeof v.content === 'string') return v.content;
  throw new Error(`${source}: "${field}" must be a token string or {"content": …}`);
}

export interface HfTokenizerFiles {
  /** parsed tokenizer.json */
  tokenizer: unknown;
  /** parsed tokenizer_config.json, when the folder has one */
  config?: unknown;
  /** the folder or file, for errors */
  source: string;
}

function kindOf(tokenizerJson: Json): TokenizerKind {
  const text = JSON.stringify([tokenizerJson.pre_tokenizer ?? null, tokenizerJson.decoder ?? null]);
  return text.includes('"ByteLevel"') ? 'bpe' : 'spm';
}

export class HfTokenizer implements TextTokenizer {
  readonly kind: TokenizerKind;
  readonly vocabSize: number;
  readonly bosId: number | undefined;
  readonly eosId: number;
  readonly padId: number;
  readonly addsBos: boolean;
  readonly specialIds: ReadonlySet<number>;
  private readonly tokenizer: Tokenizer;
  private readonly specialTexts: string[];
  /** built on first need: the same tokenizer with no special added tokens, for plain text that spells one */
  private plain: Tokenizer | undefined;
  private readonly files: { tokenizer: Json; config: Json };

  constructor(files: HfTokenizerFiles) {
    const { source } = files;
    if (!isObject(files.tokenizer)) throw new Error(`${source}: tokenizer.json is not a JSON object`);
    const config = files.config === undefined ? {} : files.config;
    if (!isObject(config)) throw new Error(`${source}: tokenizer_config.json is not a JSON object`);
    const model = files.tokenizer.model;
    if (!isObject(model)) throw new Error(`${source}: tokenizer.json has no "model" object`);
    if (typeof model.type !== 'string' || !SUPPORTED_MODELS.includes(model.type)) {
      throw new Error(
        `${source}: tokenizer.json model.type ${JSON.stringify(model.type)} is not supported (supported: ${SUPPORTED_MODELS.join(', ')})`,
      );
    }
    this.files = { tokenizer: files.tokenizer, config };
    try {
      this.tokenizer = new Tokenizer(files.tokenizer, config);
    } catch (e) {
      throw new Error(`${source}: tokenizer.json cannot be read (${(e as Error).message})`, { cause: e });
    }
    this.kind = kindOf(files.tokenizer);
    let largest = -1;
    for (const id of this.tokenizer.get_vocab(true).values()) largest = Math.max(largest, id);
    this.vocabSize = largest + 1;
    const added = [...this.tokenizer.get_added_tokens_decoder().values()].filter((t) => t.special);
    this.specialIds = new Set(added.map((t) => t.id));
    this.specialTexts = added.map((t) => t.content);

    const idOf = (field: string): number | undefined => {
      const name = tokenName(config, field, `${source}: tokenizer_config.json`);
      if (name === undefined) return undefined;
      const id = this.tokenizer.token_to_id(name);
      if (id === undefined) throw new Error(`${source}: tokenizer_config.json "${field}" ${JSON.stringify(name)} is not in the vocabulary`);
      return id;
    };
    this.bosId = idOf('bos_token');
    const eos = idOf('eos_token');
    if (eos === undefined) throw new Error(`${source}: tokenizer_config.json names no "eos_token"`);
    this.eosId = eos;
    this.padId = idOf('pad_token') ?? eos;
    // the model's BOS rule: tokenizer_config.json says so, or the post-processor adds it
    const stated = config.add_bos_token;
    if (stated !== undefined && typeof stated !== 'boolean')
      throw new Error(`${source}: tokenizer_config.json "add_bos_token" must be true or false`);
    const probe = this.tokenizer.encode('a', { add_special_tokens: true }).ids;
    this.addsBos = this.bosId !== undefined && (stated ?? probe[0] === this.bosId);
  }

  /** the parsed files this tokenizer was built from (to store or write them back) */
  get sourceFiles(): { tokenizer: Json; config: Json } {
    return this.files;
  }

  encode(text: string, options: EncodeOptions = {}): number[] {
    const spellsSpecial = !options.parseSpecial && this.specialTexts.some((t) => text.includes(t));
    const tokenizer = spellsSpecial ? this.plainTokenizer() : this.tokenizer;
    const encode = (s: string): number[] => tokenizer.encode(s, { add_special_tokens: false }).ids;
    return withBos(this, options.continuation && this.kind === 'spm' ? this.continued(text, encode) : encode(text), options);
  }

  /**
   * SentencePiece-style files prepend "▁" to every text they encode; a continuation must not get
   * it. Encoding after a newline anchor puts that "▁" before the newline, where it is cut off with
   * the anchor's tokens (when the anchor's tokens are not a prefix, the text is encoded alone).
   */
  private continued(text: string, encode: (s: string) => number[]): number[] {
    const anchor = encode('\n');
    const full = encode('\n' + text);
    return anchor.every((id, i) => full[i] === id) ? full.slice(anchor.length) : encode(text);
  }

  private plainTokenizer(): Tokenizer {
    if (!this.plain) {
      const tokenizerJson = this.files.tokenizer;
      const addedTokens = Array.isArray(tokenizerJson.added_tokens) ? tokenizerJson.added_tokens : [];
      const notSpecial = addedTokens.filter((t: unknown) => isObject(t) && t.special !== true);
      this.plain = new Tokenizer({ ...tokenizerJson, added_tokens: notSpecial }, this.files.config);
    }
    return this.plain;
  }

  decode(ids: readonly number[]): string {
    for (const id of ids) checkTokenId(id, this.vocabSize);
    return this.tokenizer.decode([...ids], { skip_special_tokens: true });
  }

  tokenText(id: number): string {
    checkTokenId(id, this.vocabSize);
    const text = this.tokenizer.id_to_token(id);
    if (text === undefined) throw new Error(`token id ${id} has no text in this vocabulary`);
    return text;
  }
}
