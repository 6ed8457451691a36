/**
 * The pre-tokenizer of a GGUF byte-level BPE vocabulary, selected by `tokenizer.ggml.pre`: a list of
 * regular expressions applied in turn, each splitting every piece into its matches and the text
 * between them (both kept). The expressions are the ones llama.cpp uses for each name (which are
 * the `tokenizer.json` pre-tokenizers of the original models, with case-insensitive groups spelled
 * out).
 */
const GPT2 = String.raw`'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)`;
const CONTRACTIONS = String.raw`(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])`;
const LLAMA3 = CONTRACTIONS + String.raw`|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`;
const QWEN2 = CONTRACTIONS + String.raw`|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`;
const CJK = '[\u4e00-\u9fa5\u0800-\u4e00\uac00-\ud7ff]+';

export interface PreTokenizer {
  /** the `tokenizer.ggml.pre` value */
  name: string;
  patterns: RegExp[];
  /** a word that is itself a token is not merged (Llama 3's `ignore_merges`) */
  ignoreMerges: boolean;
}

const make = (sources: string[], ignoreMerges = false): Omit<PreTokenizer, 'name'> => ({
  patterns: sources.map((s) => new RegExp(s, 'gu')),
  ignoreMerges,
});

const TABLE: Record<string, Omit<PreTokenizer, 'name'>> = {
  default: make([String.raw`[\p{P}\$\+<=>\^~\|]+`, GPT2, String.raw`\p{N}+`, '[0-9][0-9][0-9]']),
  'gpt-2': make([GPT2]),
  mpt: make([GPT2]),
  olmo: make([GPT2]),
  starcoder: make([String.raw`\p{N}`, GPT2]),
  refact: make([String.raw`\p{N}`, GPT2]),
  smollm: make([String.raw`\p{N}`, GPT2]),
  'deepseek-coder': make(['[\r\n]', String.raw`\s?\p{L}+`, String.raw`\s?\p{P}+`, CJK, String.raw`\p{N}`]),
  'llama-bpe': make([LLAMA3], true),
  llama3: make([LLAMA3], true),
  'llama-v3': make([LLAMA3], true),
  dbrx: make([LLAMA3]),
  'smaug-bpe': make([LLAMA3]),
  qwen2: make([QWEN2]),
  'deepseek-r1-qwen': make([QWEN2]),
  stablelm2: make([QWEN2]),
};

const SUPPORTED_PRE_TOKENIZERS = Object.keys(TABLE);

/**
 * `name` absent (files converted before the key existed, e.g. GPT-NeoX/Pythia): GPT-2's byte-level
 * pre-tokenizer, which is what those models' own tokenizer.json uses. (llama.cpp falls back to its
 * "default" expressions instead, which split " (" and "½" differently from the original tokenizer.)
 */
export function preTokenizer(name: string | undefined, source: string): PreTokenizer {
  const key = name ?? 'gpt-2';
  const entry = TABLE[key];
  if (!entry) {
    throw new Error(`${source}: tokenizer.ggml.pre "${key}" is not supported (supported: ${SUPPORTED_PRE_TOKENIZERS.join(', ')})`);
  }
  return { name: key, ...entry };
}

/** `text` cut into words: each pattern in turn splits every piece into matches and the gaps between */
export function preTokenize(text: string, patterns: readonly RegExp[]): string[] {
  let pieces = [text];
  for (const pattern of patterns) {
    const out: string[] = [];
    for (const piece of pieces) {
      let at = 0;
      for (const m of piece.matchAll(pattern)) {
        if (m[0].length === 0) continue;
        if (m.index > at) out.push(piece.slice(at, m.index));
        out.push(m[0]);
        at = m.index + m[0].length;
      }
      if (at < piece.length) out.push(piece.slice(at));
    }
    pieces = out;
  }
  return pieces;
}
