/**
 * Which examples make up each training batch: every epoch is a fresh seeded permutation of the
 * dataset, batches are consecutive runs of it, and a batch that reaches the end of an epoch takes
 * the rest of its examples from the next one (so every batch is full and has one shape).
 * The position is serializable: the RNG state from before the current epoch's shuffle plus the
 * offset into it, which is enough to rebuild the same permutation on resume.
 */
import { Rng, type RngState } from '../model/rng.js';

export interface DataPosition {
  epoch: number;
  /** index into the current epoch's permutation of the next example to take */
  offset: number;
  /** generator state before the current epoch's permutation was drawn */
  epochRng: RngState;
}

export class DataOrder {
  private permutation: number[];
  private rng: Rng;

  private constructor(
    private readonly size: number,
    private position: DataPosition,
  ) {
    if (!Number.isInteger(size) || size < 1) throw new Error(`a training set needs at least one example, got ${size}`);
    this.rng = Rng.fromState(position.epochRng);
    this.permutation = this.rng.shuffle(Array.from({ length: size }, (_, i) => i));
  }

  static start(size: number, rng: Rng): DataOrder {
    return new DataOrder(size, { epoch: 0, offset: 0, epochRng: rng.state() });
  }

  static resume(size: number, position: DataPosition): DataOrder {
    if (position.offset < 0 || position.offset > size) {
      throw new Error(`data position offset ${position.offset} does not fit a dataset of ${size} examples`);
    }
    return new DataOrder(size, { ...position });
  }

  /** indices of the next `count` examples */
  next(count: number): number[] {
    const out: number[] = [];
    while (out.length < count) {
      if (this.position.offset === this.size) {
        const epochRng = this.rng.state();
        this.permutation = this.rng.shuffle(Array.from({ length: this.size }, (_, i) => i));
        this.position = { epoch: this.position.epoch + 1, offset: 0, epochRng };
      }
      out.push(this.permutation[this.position.offset++]);
    }
    return out;
  }

  get current(): DataPosition {
    return { ...this.position, epochRng: { ...this.position.epochRng, s: [...this.position.epochRng.s] } };
  }
}
