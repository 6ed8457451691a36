import { describe, expect, it } from 'vitest';
import { Rng } from '../model/rng.js';
import { SpmTokenizer } from '../tokenizer/spm.js';
import { TokenType } from '../tokenizer/token-type.js';
import { formatPromptInit, parsePromptInit, promptFromTokenRows, randomPrompt, sampleVocabTokenIds, textTokenIds } from './prompt-init.js';

const pieces = ['<unk>', '<s>', '</s>', '▁', 'h', 'i', 'a', 'y', '▁h', '▁hi', '▁hay', '▁ha'];
const tokenizer = new SpmTokenizer({
  pieces,
  scores: pieces.map((p) => p.length),
  tokenTypes: pieces.map((_, i) => (i === 0 ? TokenType.unknown : i < 3 ? TokenType.control : TokenType.normal)),
  bosId: 1,
  eosId: 2,
  unkId: 0,
});
const dim = 3;
// row r of the embedding is [r, r + 0.5, -r]
const embedding = {
  dims: [pieces.length, dim],
  data: new Float32Array(pieces.flatMap((_, r) => [r, r + 0.5, -r])),
};

describe('parsePromptInit', () => {
  it('parses every form and round-trips it', () => {
    for (const spec of ['random', 'sample-vocab', 'text:Once upon a time', 'from:/tmp/p.safetensors']) {
      expect(formatPromptInit(parsePromptInit(spec))).toBe(spec);
    }
    expect(parsePromptInit('text:a:b')).toEqual({ kind: 'text', text: 'a:b' });
  });

  it('rejects unknown and empty forms with the accepted list', () => {
    expect(() => parsePromptInit('vocab')).toThrow(/unknown init "vocab".*sample-vocab.*text:<string>/);
    expect(() => parsePromptInit('text: ')).toThrow(/empty/);
    expect(() => parsePromptInit('from:')).toThrow(/missing/);
  });
});

describe('prompt init', () => {
  it('text: encodes with the dummy prefix and no BOS, then repeats to P', () => {
    // " hi hay" → ▁hi ▁hay → ids 9, 10
    expect(textTokenIds('hi hay', 5, tokenizer)).toEqual([9, 10, 9, 10, 9]);
  });

  it('text: cuts to P', () => {
    expect(textTokenIds('hi hay hi', 2, tokenizer)).toEqual([9, 10]);
  });

  it('copies the embedding rows of the chosen tokens', () => {
    expect(Array.from(promptFromTokenRows([9, 4], embedding))).toEqual([9, 9.5, -9, 4, 4.5, -4]);
    expect(() => promptFromTokenRows([12], embedding)).toThrow(/outside the vocabulary/);
  });

  it('sample-vocab draws ids uniformly over the vocabulary from the seeded source', () => {
    const ids = sampleVocabTokenIds(2000, pieces.length, Rng.fromSeed(7));
    expect(ids).toEqual(sampleVocabTokenIds(2000, pieces.length, Rng.fromSeed(7)));
    const counts = new Array(pieces.length).fill(0);
    for (const id of ids) counts[id]++;
    expect(Math.min(...counts)).toBeGreaterThan(100); // expected 2000/12 ≈ 167 each
  });

  it('random matches the embedding scale and is reproducible', () => {
    const prompt = randomPrompt(1000, embedding, Rng.fromSeed(3));
    expect(prompt).toEqual(randomPrompt(1000, embedding, Rng.fromSeed(3)));
    const all = Array.from(embedding.data);
    const mean = all.reduce((a, b) => a + b, 0) / all.length;
    const std = Math.sqrt(all.reduce((a, b) => a + (b - mean) ** 2, 0) / all.length);
    const got = Math.sqrt(Array.from(prompt).reduce((a, b) => a + b * b, 0) / prompt.length);
    expect(got / std).toBeGreaterThan(0.95);
    expect(got / std).toBeLessThan(1.05);
  });
});
