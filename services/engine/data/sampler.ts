/**
 * Deterministic example order: each epoch is a fresh seeded permutation; batches run across
 * epoch boundaries (the tail of one epoch continues into the next), so every batch has the
 * requested size. The position (epoch, index, RNG state at the start of the epoch) is plain
 * JSON: restoring it replays exactly the same batches.
 */
import { Rng, type RngState } from '../model/rng.js';

export interface SamplerState {
  epoch: number;
  /** next position within the epoch's permutation */
  index: number;
  /** RNG state the epoch's permutation was drawn from */
  epochStartRng: RngState;
}

export class ExampleSampler {
  private order: number[];
  private rng: Rng;

  private constructor(
    private readonly count: number,
    private epoch: number,
    private index: number,
    private epochStartRng: RngState,
  ) {
    if (!Number.isInteger(count) || count <= 0) throw new Error(`sampler needs at least one example, got ${count}`);
    if (!Number.isInteger(index) || index < 0 || index > count || !Number.isInteger(epoch) || epoch < 0) {
      throw new Error(`invalid sampler position epoch ${epoch} index ${index} for ${count} examples`);
    }
    this.rng = Rng.fromState(epochStartRng);
    this.order = this.rng.shuffle(Array.from({ length: count }, (_, i) => i));
  }

  static create(count: number, seed: number): ExampleSampler {
    return new ExampleSampler(count, 0, 0, Rng.fromSeed(seed).state());
  }

  static restore(count: number, state: SamplerState): ExampleSampler {
    return new ExampleSampler(count, state.epoch, state.index, state.epochStartRng);
  }

  state(): SamplerState {
    return { epoch: this.epoch, index: this.index, epochStartRng: { ...this.epochStartRng, s: [...this.epochStartRng.s] } };
  }

  /** indices of the next `batchSize` examples */
  next(batchSize: number): number[] {
    const out: number[] = [];
    while (out.length < batchSize) {
      if (this.index === this.count) this.startNextEpoch();
      out.push(this.order[this.index++]);
    }
    return out;
  }

  private startNextEpoch(): void {
    this.epoch++;
    this.index = 0;
    this.epochStartRng = this.rng.state();
    this.order = this.rng.shuffle(Array.from({ length: this.count }, (_, i) => i));
  }
}
