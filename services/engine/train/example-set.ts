/**
 * A tokenized dataset as the training loop sees it: its size, longest example, a content digest
 * (so a checkpoint cannot be resumed on other data), and batches in the training graph's layout.
 * Batches come from ../data/batch.ts (right-padded, length rounded up to a bucket) and are
 * re-expressed for the graph: `loss_mask[b, t] = 1` marks token t as predicted (the data layer
 * marks the logits position t−1 that predicts it), and short batches get empty rows so that a
 * run only ever sees a few session shapes.
 */
import { createHash } from 'node:crypto';
import { makeBatch } from '../data/batch.js';
import { modelChatTemplate } from '../chat/model-template.js';
import { loadDataset } from '../data/dataset.js';
import type { EncodedExample } from '../data/encode.js';
import type { LoadedModel } from '../model/load-model.js';
import type { TokenBatch } from './prompt-runner.js';

export interface ExampleSet {
  readonly size: number;
  /** longest example, in tokens (BOS included) */
  readonly maxLength: number;
  readonly digest: string;
  /** the examples at `indices` in `rows` rows (extra rows are empty: all-zero loss mask) */
  batch(indices: readonly number[], rows: number): TokenBatch;
  /** the whole set in order, `rows` examples per batch */
  batches(rows: number): Iterable<TokenBatch>;
}

export interface ExampleSetOptions {
  /** id used for padding (any valid id: padded positions are masked out and causally unseen) */
  padId: number;
  /** longest sequence allowed: the model's context length minus the virtual tokens */
  maxSeqLen: number;
  /** padded lengths are multiples of this (default 8) */
  bucket?: number;
}

export function exampleSet(examples: readonly EncodedExample[], options: ExampleSetOptions): ExampleSet {
  const maxLength = examples.reduce((m, e) => Math.max(m, e.ids.length), 0);
  const hash = createHash('sha256');
  for (const e of examples) hash.update(`${e.promptIds.length}:${e.ids.join(',')};`);
  const digest = hash.digest('hex');

  const batch = (indices: readonly number[], rows: number): TokenBatch => {
    if (indices.length === 0 || indices.length > rows) throw new Error(`a batch of ${indices.length} examples does not fit ${rows} rows`);
    const b = makeBatch(
      indices.map((i) => examples[i]),
      options,
    );
    const T = b.seqLen;
    const tokens = new BigInt64Array(rows * T).fill(BigInt(options.padId));
    tokens.set(b.ids);
    const lossMask = new Float32Array(rows * T);
    for (let r = 0; r < b.batchSize; r++) lossMask.set(b.lossMask.subarray(r * T, (r + 1) * T - 1), r * T + 1);
    return { batch: rows, seqLen: T, tokens, lossMask };
  };

  return {
    size: examples.length,
    maxLength,
    digest,
    batch,
    *batches(rows: number) {
      for (let start = 0; start < examples.length; start += rows) {
        const end = Math.min(examples.length, start + rows);
        yield batch(
          Array.from({ length: end - start }, (_, i) => start + i),
          rows,
        );
      }
    },
  };
}

/**
 * Reads and encodes a JSONL file for `model` with `virtualTokens` prepended; every invalid line,
 * and every example too long for the context, is reported as file:line (DataError). Needs the
 * model's text side only (an opened model will do: no weight is read).
 */
export async function loadExampleSet(
  file: string,
  model: Pick<LoadedModel, 'spec' | 'tokenizer' | 'chatTemplate' | 'source'>,
  virtualTokens: number,
): Promise<ExampleSet> {
  const { contextLength } = model.spec;
  const origin = `the chat template of ${model.source.kind === 'gguf' ? model.source.path : model.source.dir}`;
  const chat = model.chatTemplate === undefined ? undefined : modelChatTemplate(model.chatTemplate, model.tokenizer, origin);
  const dataset = await loadDataset(file, model.tokenizer, { contextLength, virtualTokens }, chat);
  return exampleSet(dataset.examples, { padId: model.tokenizer.eosId, maxSeqLen: contextLength - virtualTokens });
}
