/**
 * A small but real byte-level BPE `tokenizer.json` (GPT-2's scheme: every byte maps to one
 * printable character, a ByteLevel pre-tokenizer splits on GPT-2's regex, merges build words) for
 * generated Hugging Face folders. The merges are not trained: each word of a fixed list is built
 * left to right, one merge per added character, so the vocabulary is deterministic and any text
 * encodes (the 256 byte tokens cover everything).
 */

const WORDS = [
  'Once',
  ' upon',
  ' a',
  ' time',
  ' the',
  ' dog',
  ' and',
  ' to',
  ' was',
  ' he',
  ' she',
  ' it',
  ' in',
  ' of',
  ' day',
  ' sun',
  ' play',
  ' happy',
  ' tree',
  ' little',
  ' said',
  ' with',
  ' they',
  ' is',
];

/** GPT-2's byte → unicode table: printable bytes map to themselves, the rest to U+0100 onwards. */
function byteToUnicode(): string[] {
  const printable = (b: number): boolean => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const out: string[] = [];
  let next = 0;
  for (let b = 0; b < 256; b++) out.push(String.fromCodePoint(printable(b) ? b : 256 + next++));
  return out;
}

export interface SpecialTokens {
  bos?: string;
  eos: string;
  pad?: string;
}

export interface TokenizerFiles {
  /** tokenizer.json */
  tokenizer: Record<string, unknown>;
  /** tokenizer_config.json */
  tokenizerConfig: Record<string, unknown>;
  /** tokens in the vocabulary (ids 0..size-1) */
  size: number;
  ids: { bos?: number; eos: number; pad?: number };
}

/** Builds tokenizer.json + tokenizer_config.json; `maxSize` bounds the vocabulary (the model's vocab_size). */
export function byteLevelBpeTokenizer(special: SpecialTokens, maxSize: number, addBos: boolean): TokenizerFiles {
  const table = byteToUnicode();
  const vocab = new Map<string, number>();
  table.forEach((ch) => vocab.set(ch, vocab.size));
  const specials = [...new Set([special.bos, special.eos, special.pad].filter((s): s is string => s !== undefined))];
  const mergeBudget = maxSize - vocab.size - specials.length;
  if (mergeBudget < 0)
    throw new Error(`vocab_size ${maxSize} is below the ${vocab.size + specials.length} byte and special tokens a byte-level BPE needs`);
  const merges: string[] = [];
  for (const word of WORDS) {
    const symbols = [...new TextEncoder().encode(word)].map((b) => table[b]);
    let left = symbols[0];
    for (const right of symbols.slice(1)) {
      const merged = left + right;
      if (!vocab.has(merged)) {
        if (merges.length === mergeBudget) break;
        merges.push(`${left} ${right}`);
        vocab.set(merged, vocab.size);
      }
      left = merged;
    }
  }
  const addedTokens = specials.map((content) => {
    vocab.set(content, vocab.size);
    return { id: vocab.get(content), content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
  });
  const bosId = special.bos === undefined ? undefined : vocab.get(special.bos);
  const postProcessor =
    addBos && special.bos !== undefined
      ? {
          type: 'TemplateProcessing',
          single: [{ SpecialToken: { id: special.bos, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
          pair: [
            { SpecialToken: { id: special.bos, type_id: 0 } },
            { Sequence: { id: 'A', type_id: 0 } },
            { SpecialToken: { id: special.bos, type_id: 1 } },
            { Sequence: { id: 'B', type_id: 1 } },
          ],
          special_tokens: { [special.bos]: { id: special.bos, ids: [bosId], tokens: [special.bos] } },
        }
      : { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: true };
  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: addedTokens,
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: postProcessor,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: Object.fromEntries(vocab),
      merges,
    },
  };
  const tokenizerConfig: Record<string, unknown> = {
    tokenizer_class: 'PreTrainedTokenizerFast',
    add_bos_token: addBos,
    add_eos_token: false,
    eos_token: special.eos,
    model_max_length: 1_000_000,
    clean_up_tokenization_spaces: false,
  };
  if (special.bos !== undefined) tokenizerConfig.bos_token = special.bos;
  if (special.pad !== undefined) tokenizerConfig.pad_token = special.pad;
  return {
    tokenizer,
    tokenizerConfig,
    size: vocab.size,
    ids: { bos: bosId, eos: vocab.get(special.eos) as number, pad: special.pad === undefined ? undefined : vocab.get(special.pad) },
  };
}
