/**
 * The running batch's key/value cache: per layer, keys and values [slots, nKvHeads, length, headDim]
 * in plain Float32Arrays that the step graphs read as inputs without a copy (a slot's rows are one
 * contiguous subarray, so a one-sequence graph reads a slot in place). `length` is a shape bucket:
 * growing or shrinking it re-lays the rows out once.
 */
import type { ModelSpec } from '../model/spec.js';

/** One sequence's keys and values for positions [0, length): per layer [nKvHeads, length, headDim]. */
export interface SequenceKv {
  length: number;
  keys: Float32Array[];
  values: Float32Array[];
}

export const sequenceKvBytes = (kv: SequenceKv): number => kv.keys.reduce((n, k) => n + k.byteLength, 0) * 2;

/** Bytes of a cache of `slots` sequences × `length` positions (keys and values, every layer). */
export const slotCacheBytes = (spec: ModelSpec, slots: number, length: number): number =>
  slots * spec.nLayers * 2 * spec.nKvHeads * length * spec.headDim * 4;

export class SlotCache {
  keys: Float32Array[] = [];
  values: Float32Array[] = [];
  private readonly nKv: number;
  private readonly hs: number;

  constructor(
    spec: ModelSpec,
    readonly slots: number,
    public length: number,
  ) {
    this.nKv = spec.nKvHeads;
    this.hs = spec.headDim;
    for (let l = 0; l < spec.nLayers; l++) {
      this.keys.push(new Float32Array(slots * this.nKv * length * this.hs));
      this.values.push(new Float32Array(slots * this.nKv * length * this.hs));
    }
  }

  /** Dims of one layer's keys (or values) as a graph input. */
  dims(slotCount = this.slots): number[] {
    return [slotCount, this.nKv, this.length, this.hs];
  }

  /** Re-lays every slot's first min(old, new) positions into buffers of the new length. */
  resize(length: number): void {
    if (length === this.length) return;
    const keep = Math.min(length, this.length) * this.hs;
    const relayout = (old: Float32Array): Float32Array => {
      const next = new Float32Array(this.slots * this.nKv * length * this.hs);
      for (let r = 0; r < this.slots * this.nKv; r++) {
        next.set(old.subarray(r * this.length * this.hs, r * this.length * this.hs + keep), r * length * this.hs);
      }
      return next;
    };
    this.keys = this.keys.map(relayout);
    this.values = this.values.map(relayout);
    this.length = length;
  }

  /** Layer l's keys and values of one slot, [1, nKvHeads, length, headDim], in place. */
  slotView(l: number, slot: number): { key: Float32Array; value: Float32Array } {
    const n = this.nKv * this.length * this.hs;
    return { key: this.keys[l].subarray(slot * n, (slot + 1) * n), value: this.values[l].subarray(slot * n, (slot + 1) * n) };
  }

  /**
   * Copies `count` new positions of row `from` of a step's outputs (per layer [rows, nKvHeads, chunk, headDim])
   * into `slot` at positions [at, at + count).
   */
  write(
    slot: number,
    at: number,
    newKeys: readonly Float32Array[],
    newValues: readonly Float32Array[],
    from: number,
    chunk: number,
    count: number,
  ): void {
    const { nKv, hs } = this;
    for (let l = 0; l < this.keys.length; l++) {
      for (const [dst, src] of [
        [this.keys[l], newKeys[l]],
        [this.values[l], newValues[l]],
      ] as const) {
        for (let h = 0; h < nKv; h++) {
          const s = (from * nKv + h) * chunk * hs;
          dst.set(src.subarray(s, s + count * hs), ((slot * nKv + h) * this.length + at) * hs);
        }
      }
    }
  }

  /** Copies a sequence's cached positions into `slot` at positions [0, kv.length). */
  load(slot: number, kv: SequenceKv): void {
    this.write(slot, 0, kv.keys, kv.values, 0, kv.length, kv.length);
  }

  /** `slot`'s positions [0, length) as a sequence of its own. */
  extract(slot: number, length: number): SequenceKv {
    const { nKv, hs } = this;
    const take = (buffers: Float32Array[]): Float32Array[] =>
      buffers.map((b) => {
        const out = new Float32Array(nKv * length * hs);
        for (let h = 0; h < nKv; h++) {
          const s = (slot * nKv + h) * this.length * hs;
          out.set(b.subarray(s, s + length * hs), h * length * hs);
        }
        return out;
      });
    return { length, keys: take(this.keys), values: take(this.values) };
  }
}
