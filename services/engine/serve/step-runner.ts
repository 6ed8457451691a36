/**
 * Runs step graphs (../graph/decode-graph.ts) over a SlotCache: builds one session per shape
 * (slots × chunk × cache length [× scoring]) on first use, and the per-step feeds: input rows,
 * positions, and masks that encode each sequence's cached length, causality among its new tokens
 * and the sliding window.
 */
import { buildStepGraph, STEP_IO } from '../graph/decode-graph.js';
import { GraphSession, type HostTensor, type SessionOptions } from '../graph/run.js';
import type { DecoderModel } from '../model/weights.js';
import { isSlidingLayer } from '../model/spec.js';
import type { HeldPrecision } from '../graph/weight-bank.js';
import type { SlotCache } from './slot-cache.js';

const hidden = -1e9; // the full graph's additive mask value (decoder-graph.ts)

/** One sequence's part of a step: `count` new tokens at positions [start, start + count). */
export interface StepSequence {
  start: number;
  count: number;
  /** writes new token i's input row (at absolute position start + i) into rows at row `row` */
  writeRow(i: number, rows: Float32Array, row: number): void;
  /** scoring: the token following new token i */
  target?(i: number): number;
}

export interface StepResult {
  /** [rows, vocab]: logits at each sequence's last new token */
  logits: Float32Array;
  /** per layer [rows, nKvHeads, chunk, headDim] */
  newKeys: Float32Array[];
  newValues: Float32Array[];
  /** [rows, chunk] (scoring) */
  tokenLogprobs?: Float32Array;
}

export interface StepRunnerOptions extends SessionOptions {
  /** the precision the model's weight bank holds its matrices in (default: the loaded model's) */
  weightsHeld?: HeldPrecision;
}

export class StepRunner {
  private readonly sessions = new Map<string, Promise<GraphSession>>();
  private readonly group: number;
  private readonly window: number | undefined;
  private readonly hasSliding: boolean;
  private readonly hasGlobal: boolean;
  private readonly weightsHeld: HeldPrecision | undefined;
  private readonly sessionOptions: SessionOptions;

  constructor(
    readonly model: DecoderModel,
    options: StepRunnerOptions,
    private readonly maxSessions = 6,
  ) {
    const { spec } = model;
    const { weightsHeld, ...sessionOptions } = options;
    this.weightsHeld = weightsHeld;
    this.sessionOptions = sessionOptions;
    this.group = spec.nHeads / spec.nKvHeads;
    this.window = spec.attention.slidingWindow;
    const layers = Array.from({ length: spec.nLayers }, (_, l) => isSlidingLayer(spec, l));
    this.hasSliding = layers.some((s) => s);
    this.hasGlobal = layers.some((s) => !s);
  }

  /** Shapes built so far (slots×chunk×cacheLength, 's' for scoring), for stats and tests. */
  shapes(): string[] {
    return [...this.sessions.keys()];
  }

  /**
   * The session of a shape, built on first use. The sessions share the weights (the model's weight
   * bank, fed by reference), but each holds its compiled graph, RoPE tables and activation memory,
   * so beyond `maxSessions` the least recently used one is released (steps never overlap: the
   * engine runs one at a time).
   */
  private session(slots: number, chunk: number, cacheLength: number, scoring: boolean): Promise<GraphSession> {
    const key = `${slots}x${chunk}x${cacheLength}${scoring ? 's' : ''}`;
    let s = this.sessions.get(key);
    if (s) {
      this.sessions.delete(key);
    } else {
      for (const [old, session] of this.sessions) {
        if (this.sessions.size < this.maxSessions) break;
        this.sessions.delete(old);
        void session.then((x) => x.release()).catch(() => undefined);
      }
      s = GraphSession.create(
        buildStepGraph(this.model, { slots, chunk, cacheLength, scoring, weightsHeld: this.weightsHeld }),
        this.sessionOptions,
      );
      s.catch(() => this.sessions.delete(key));
    }
    // Map order is the LRU order
    this.sessions.set(key, s);
    return s;
  }

  /**
   * One step: `sequences[r]` (undefined: an idle row) reads the cache of slot `slotOf(r)`; with
   * `slot` set the graph has one row reading that slot in place, else one row per cache slot.
   */
  async run(
    cache: SlotCache,
    chunk: number,
    sequences: readonly (StepSequence | undefined)[],
    options: { slot?: number; scoring?: boolean } = {},
  ): Promise<StepResult> {
    const { spec } = this.model;
    const S = sequences.length;
    const L = cache.length;
    const C = chunk;
    const cols = L + C;
    const rows = new Float32Array(S * C * spec.dim);
    const positions = new BigInt64Array(S * C);
    const last = new BigInt64Array(S);
    const targets = options.scoring ? new BigInt64Array(S * C) : undefined;
    const masks = {
      global: this.hasGlobal ? new Float32Array(S * this.group * C * cols).fill(hidden) : undefined,
      window: this.hasSliding ? new Float32Array(S * this.group * C * cols).fill(hidden) : undefined,
    };
    sequences.forEach((seq, s) => {
      if (!seq) return;
      if (seq.count < 1 || seq.count > C || seq.start + seq.count > spec.contextLength || seq.start > L)
        throw new Error(
          `step: a sequence of ${seq.count} new tokens at ${seq.start} does not fit chunk ${C}, cache ${L}, context ${spec.contextLength}`,
        );
      last[s] = BigInt(seq.count - 1);
      for (let i = 0; i < seq.count; i++) {
        seq.writeRow(i, rows, s * C + i);
        positions[s * C + i] = BigInt(seq.start + i);
        if (targets) targets[s * C + i] = BigInt(seq.target!(i));
      }
      for (const [mask, window] of [
        [masks.global, undefined],
        [masks.window, this.window],
      ] as const) {
        if (mask) this.fillMask(mask, s, C, L, seq, window);
      }
    });
    const feeds: Record<string, HostTensor> = {
      [STEP_IO.embeddings]: { data: rows, dims: [S, C, spec.dim] },
      [STEP_IO.last]: { data: last, dims: [S] },
    };
    if (spec.positions.kind === 'rope') feeds[STEP_IO.positions] = { data: positions, dims: [S, C] };
    if (masks.global) feeds[STEP_IO.mask] = { data: masks.global, dims: [S, 1, this.group * C, cols] };
    if (masks.window) feeds[STEP_IO.windowMask] = { data: masks.window, dims: [S, 1, this.group * C, cols] };
    if (targets) feeds[STEP_IO.targets] = { data: targets, dims: [S, C] };
    for (let l = 0; l < spec.nLayers; l++) {
      const kv = options.slot === undefined ? { key: cache.keys[l], value: cache.values[l] } : cache.slotView(l, options.slot);
      feeds[`${STEP_IO.pastKey}${l}`] = { data: kv.key, dims: cache.dims(S) };
      feeds[`${STEP_IO.pastValue}${l}`] = { data: kv.value, dims: cache.dims(S) };
    }
    const session = await this.session(S, C, L, options.scoring === true);
    const out = await session.run(feeds);
    const layers = Array.from({ length: spec.nLayers }, (_, l) => l);
    return {
      logits: out[STEP_IO.logits].data as Float32Array,
      newKeys: layers.map((l) => out[`${STEP_IO.newKey}${l}`].data as Float32Array),
      newValues: layers.map((l) => out[`${STEP_IO.newValue}${l}`].data as Float32Array),
      ...(targets ? { tokenLogprobs: out[STEP_IO.tokenLogprobs].data as Float32Array } : {}),
    };
  }

  /**
   * Row s of the mask [S, 1, group·C, L+C]: new token i (position start+i) sees cached column c
   * when c < start, and new column L+j when j ≤ i; within a window W only positions > position − W.
   * Rows past the sequence's new tokens stay hidden (their outputs are never read).
   */
  private fillMask(mask: Float32Array, s: number, C: number, L: number, seq: StepSequence, window: number | undefined): void {
    const cols = L + C;
    for (let i = 0; i < seq.count; i++) {
      const q = seq.start + i;
      const from = window === undefined ? 0 : Math.max(0, q - window + 1);
      for (let gi = 0; gi < this.group; gi++) {
        const row = ((s * this.group + gi) * C + i) * cols;
        mask.fill(0, row + Math.min(from, seq.start), row + seq.start);
        mask.fill(0, row + L + Math.max(0, from - seq.start), row + L + i + 1);
      }
    }
  }

  async release(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(all.map(async (s) => (await s).release().catch(() => undefined)));
  }
}
