/**
 * A small deterministic SentencePiece-style vocabulary for generated models: control tokens,
 * 256 byte-fallback pieces, single characters, then BPE merges learned from a short built-in
 * English text (score = −rank, so encoding replays the merges in order). Any text encodes.
 */
import type { TokenizerSpec } from './spm.js';
import { TokenType } from './token-type.js';

const CORPUS = `Once upon a time there was a little dog named Max. Max liked to run in the green park
with his friend Sam. One day the sun was hot and the sky was blue. Sam said, "Let us go to the lake!"
They walked and talked and played with a red ball. A small bird sat on a tree and sang a happy song.
Max wanted to catch the bird, but it flew away. Then they found a big box under the tree. In the box
there were books, toys and a warm blanket. Sam was very happy. "Thank you, tree!" he said. The mom of
Sam made some food for them: bread, milk, apples and cake. When the night came, they went home, and
everyone was tired. The next morning they woke up early because they wanted to play again. It was the
best day of the year. What will they do tomorrow? Nobody knows, but it will be fun.`;

const SPACE = '▁';
/** 3 control + 256 byte tokens + "▁" (so a space never goes through byte fallback) */
export const MIN_GENERATED_VOCAB = 260;

function bpeMerges(maxMerges: number): string[] {
  const wordCounts = new Map<string, number>();
  for (const w of CORPUS.split(/\s+/)) if (w) wordCounts.set(SPACE + w, (wordCounts.get(SPACE + w) ?? 0) + 1);
  const words = [...wordCounts].map(([w, count]) => ({ symbols: [...w], count }));
  const merges: string[] = [];
  const seen = new Set<string>();
  while (merges.length < maxMerges) {
    const pairCounts = new Map<string, { count: number; a: string; b: string }>();
    for (const { symbols, count } of words) {
      for (let i = 0; i + 1 < symbols.length; i++) {
        const key = symbols[i] + '\u0000' + symbols[i + 1];
        const entry = pairCounts.get(key) ?? { count: 0, a: symbols[i], b: symbols[i + 1] };
        entry.count += count;
        pairCounts.set(key, entry);
      }
    }
    let best: { count: number; a: string; b: string } | undefined;
    for (const p of pairCounts.values()) {
      if (!best || p.count > best.count || (p.count === best.count && p.a + p.b < best.a + best.b)) best = p;
    }
    if (!best) break;
    const { a, b } = best;
    for (const word of words) {
      const out: string[] = [];
      for (let i = 0; i < word.symbols.length; i++) {
        if (i + 1 < word.symbols.length && word.symbols[i] === a && word.symbols[i + 1] === b) {
          out.push(a + b);
          i++;
        } else {
          out.push(word.symbols[i]);
        }
      }
      word.symbols = out;
    }
    if (!seen.has(a + b)) {
      seen.add(a + b);
      merges.push(a + b);
    }
  }
  return merges;
}

function corpusCharacters(): string[] {
  const counts = new Map<string, number>();
  for (const ch of CORPUS.replace(/\s+/g, SPACE)) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  return [...counts].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1)).map(([ch]) => ch);
}

/** A vocabulary of exactly `vocabSize` pieces (≥ 260): ids 0 <unk>, 1 <s>, 2 </s>, 3..258 bytes. */
export function generatedTokenizerSpec(vocabSize: number): TokenizerSpec {
  if (!Number.isInteger(vocabSize) || vocabSize < MIN_GENERATED_VOCAB) {
    throw new Error(
      `generated tokenizer needs a vocab size ≥ ${MIN_GENERATED_VOCAB} (3 control, 256 byte tokens and "▁"), got ${vocabSize}`,
    );
  }
  const pieces: string[] = ['<unk>', '<s>', '</s>'];
  const tokenTypes: number[] = [TokenType.unknown, TokenType.control, TokenType.control];
  const scores: number[] = [0, 0, 0];
  for (let b = 0; b < 256; b++) {
    pieces.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
    tokenTypes.push(TokenType.byte);
    scores.push(0);
  }
  const add = (piece: string, type: number, score: number): void => {
    if (pieces.length < vocabSize) {
      pieces.push(piece);
      tokenTypes.push(type);
      scores.push(score);
    }
  };
  const chars = corpusCharacters();
  chars.forEach((ch, i) => add(ch, TokenType.normal, -1_000_000 - i));
  bpeMerges(vocabSize - pieces.length).forEach((piece, rank) => add(piece, TokenType.normal, 0 - rank));
  const have = new Set(pieces);
  for (let code = 0x21; code < 0x7f; code++) {
    const ch = String.fromCharCode(code);
    if (!have.has(ch)) add(ch, TokenType.normal, -2_000_000 - code);
  }
  for (let i = 0; pieces.length < vocabSize; i++) add(`<unused_${i}>`, TokenType.unused, -3_000_000);
  return { pieces, scores, tokenTypes, bosId: 1, eosId: 2, unkId: 0 };
}
