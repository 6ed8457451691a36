/**
 * Runs the frozen model with trainable inputs on onnxruntime: one session per
 * (mode, batch, padded length), built on first use and kept for the rest of the run. The
 * sessions hold no weights: every one is fed the model's one weight bank (../graph/weight-bank.ts).
 * `train` sessions output the loss and the gradients of every trainable graph input;
 * `score` sessions are the same graph without the backward pass, plus per-example sums and
 * argmax predictions, for eval.
 */
import { GRAPH_IO, buildTrainingGraph, type PastKeyValues, type VirtualTokens } from '../graph/decoder-graph.js';
import { GraphSession, type HostTensor, type SessionOptions } from '../graph/run.js';
import type { DecoderModel } from '../model/weights.js';
import type { WeightsDtype } from '../model/weights-dtype.js';
import { heldPrecision } from '../graph/weight-bank.js';
import type { ParameterSet } from '../prompt/vocabulary.js';

/** A right-padded batch: token ids and the mask of predicted tokens, both [batch, seqLen]. */
export interface TokenBatch {
  batch: number;
  seqLen: number;
  tokens: BigInt64Array;
  lossMask: Float32Array;
}

export interface ScoreOutputs {
  /** summed NLL of each example's masked tokens [batch] */
  exampleNll: Float32Array;
  /** number of masked tokens per example [batch] */
  exampleTokens: Float32Array;
  /** [batch, seqLen-1]: argmax of the logits predicting token t+1 */
  predictions: BigInt64Array;
}

export interface TrainOutputs {
  loss: number;
  grads: ParameterSet;
}

/**
 * `memoryArena` (unset): onnxruntime's CPU arena belongs to one session and never shrinks, so with
 * several shape buckets each would keep its own peak (bench85m, two passes over 8 buckets, arena
 * on: 2870 MB vs 1114 MB for one bucket). Without it every run faults in fresh pages (the bench85m
 * step: 1628 ms vs 965 ms with it). So the runner's first training shape gets an arena, and the
 * first time a second training shape is needed that session is rebuilt without one, as is every
 * later session: one-bucket runs are fast, many-bucket runs bounded. Scoring sessions never get
 * one. No training session uses onnxruntime's memory pattern (one planned block per run): with the
 * arena it stays reserved beside the arena's chunks (2267 vs 1770 MB on bench85m), without it the
 * 8-bucket run peaked at 1356 MB instead of 1156 (one bucket: 1108). Arena-less sessions hand their
 * activations back to malloc, so ptune's processes fix glibc's mmap threshold (../memory/malloc-tunables.ts).
 */
export interface RunnerOptions extends Pick<SessionOptions, 'executionProvider' | 'threads' | 'spinning' | 'memoryArena'> {
  /**
   * How sessions take the weights (SessionOptions.weights). Default: 'initializers' with CUDA, so
   * the weights cross to the device once per session rather than on every step, else 'fed'. As
   * each 'initializers' session holds its own copy, the runner then keeps one session at a time:
   * a new shape or mode releases the previous session before it is built.
   */
  weights?: SessionOptions['weights'];
  /** the precision the frozen weights are held in (default auto: the loaded model's bank, ../graph/weight-bank.ts) */
  weightsDtype?: WeightsDtype;
  /** training steps recompute each layer's forward in the backward instead of keeping its activations */
  recompute?: boolean;
}

/**
 * Where the trainable graph inputs come from: virtual tokens before the real ones (prompt tuning,
 * P-tuning) and/or per-layer prefix keys and values (prefix tuning). Absent both, the bare model.
 */
export interface TrainableSources {
  virtualTokens?: VirtualTokens;
  pastKeyValues?: PastKeyValues;
}

interface CachedSession {
  session: GraphSession;
  /** trainable input names, in gradient output order */
  trainable: string[];
  /** static shape of every graph input */
  shapes: Map<string, readonly number[]>;
}

export class PromptRunner {
  private readonly sessions = new Map<string, Promise<CachedSession>>();
  /** the one training session built with an arena; 'none' once a second training shape appeared */
  private arenaKey: string | 'none' | undefined;

  constructor(
    private readonly model: DecoderModel,
    private readonly sources: TrainableSources,
    private readonly options: RunnerOptions = {},
  ) {}

  async train(batch: TokenBatch, params: ParameterSet): Promise<TrainOutputs> {
    const s = await this.session('train', batch);
    const out = await s.session.run(feeds(s, batch, params), [GRAPH_IO.loss, ...s.trainable.map((n) => `${GRAPH_IO.gradPrefix}${n}`)]);
    const grads: ParameterSet = {};
    for (const name of s.trainable) grads[name] = out[`${GRAPH_IO.gradPrefix}${name}`].data as Float32Array;
    return { loss: (out[GRAPH_IO.loss].data as Float32Array)[0], grads };
  }

  async score(batch: TokenBatch, params: ParameterSet): Promise<ScoreOutputs> {
    const s = await this.session('score', batch);
    return scoreOutputs(await s.session.run(feeds(s, batch, params)));
  }

  /** The sessions held now (mode:batch×length), for tests. */
  shapes(): string[] {
    return [...this.sessions.keys()];
  }

  async release(): Promise<void> {
    for (const s of this.takeAll()) await (await s).session.release();
  }

  private session(mode: 'train' | 'score', b: TokenBatch): Promise<CachedSession> {
    const key = `${mode}:${b.batch}x${b.seqLen}`;
    let cached = this.sessions.get(key);
    if (!cached) {
      const { graph, trainable } = buildTrainingGraph(this.model, {
        batch: b.batch,
        seqLen: b.seqLen,
        ...this.sources,
        withGradients: mode === 'train',
        withPredictions: mode === 'score',
        weightsHeld: heldPrecision(this.options.weightsDtype),
        recompute: this.options.recompute,
      });
      // keep only names and shapes of the built graph
      const names = trainable.map((v) => v.name);
      const shapes = new Map(graph.inputs.map((v) => [v.name, v.shape]));
      const arena = this.arenaFor(mode, key);
      const weights = this.options.weights ?? (this.options.executionProvider === 'cuda' ? 'initializers' : 'fed');
      const replaced = [...(arena.replaces ? [arena.replaces] : []), ...(weights === 'initializers' ? this.takeAll() : [])];
      cached = (async (): Promise<CachedSession> => {
        // what a replaced session holds (its arena, its copy of the weights) is given back before the new one allocates anything
        for (const r of replaced) await (await r).session.release();
        const session = await GraphSession.create(graph, { ...this.options, weights, memoryArena: arena.on, memoryPattern: false });
        return { session, trainable: names, shapes };
      })();
      this.sessions.set(key, cached);
      cached.catch(() => this.sessions.delete(key));
    }
    return cached;
  }

  /** Every held session, no longer held (the caller releases them). */
  private takeAll(): Promise<CachedSession>[] {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    return all;
  }

  /** Whether a new session `key` gets an arena, and the session it replaces (built again without one when next used). */
  private arenaFor(mode: 'train' | 'score', key: string): { on: boolean; replaces?: Promise<CachedSession> } {
    if (this.options.memoryArena !== undefined) return { on: this.options.memoryArena };
    if (mode !== 'train' || this.arenaKey === 'none') return { on: false };
    if (this.arenaKey === undefined) {
      this.arenaKey = key;
      return { on: true };
    }
    const replaces = this.sessions.get(this.arenaKey);
    this.sessions.delete(this.arenaKey);
    this.arenaKey = 'none';
    return { on: false, replaces };
  }
}

function feeds(s: CachedSession, b: TokenBatch, params: ParameterSet): Record<string, HostTensor> {
  const out: Record<string, HostTensor> = {
    [GRAPH_IO.tokens]: { data: b.tokens, dims: [b.batch, b.seqLen] },
    [GRAPH_IO.lossMask]: { data: b.lossMask, dims: [b.batch, b.seqLen] },
  };
  for (const [name, data] of Object.entries(params)) {
    const dims = s.shapes.get(name);
    if (!dims) throw new Error(`prompt runner: the graph has no input "${name}"`);
    out[name] = { data, dims };
  }
  return out;
}

function scoreOutputs(out: Record<string, HostTensor>): ScoreOutputs {
  return {
    exampleNll: out[GRAPH_IO.exampleNll].data as Float32Array,
    exampleTokens: out[GRAPH_IO.exampleTokens].data as Float32Array,
    predictions: out[GRAPH_IO.predictions].data as BigInt64Array,
  };
}
