/**
 * Each served prompt version's prefix keys/values, computed once and kept while they fit a byte
 * budget, least recently used first out. Concurrent misses for the same id share one computation.
 * A prefix larger than the whole budget is computed, used and not kept.
 */
import { sequenceKvBytes, type SequenceKv } from './slot-cache.js';

export class PrefixCache {
  private readonly entries = new Map<string, SequenceKv>();
  private readonly pending = new Map<string, Promise<SequenceKv>>();
  hits = 0;
  misses = 0;
  bytes = 0;

  constructor(private readonly budget: number) {}

  async get(id: string, compute: () => Promise<SequenceKv>): Promise<SequenceKv> {
    const hit = this.entries.get(id);
    if (hit) {
      this.hits++;
      // re-insert: Map iteration order is the LRU order
      this.entries.delete(id);
      this.entries.set(id, hit);
      return hit;
    }
    this.misses++;
    let p = this.pending.get(id);
    if (!p) {
      p = compute().finally(() => this.pending.delete(id));
      this.pending.set(id, p);
      this.keep(id, await p);
    }
    return p;
  }

  private keep(id: string, kv: SequenceKv): void {
    const size = sequenceKvBytes(kv);
    if (size > this.budget || this.entries.has(id)) return;
    for (const [old, entry] of this.entries) {
      if (this.bytes + size <= this.budget) break;
      this.entries.delete(old);
      this.bytes -= sequenceKvBytes(entry);
    }
    this.entries.set(id, kv);
    this.bytes += size;
  }
}
