/** A payload ready to serve: its bytes and their sha256 (already verified or computed). */
export interface CachedPayload {
  bytes: Uint8Array;
  sha256: string;
}

/**
 * In-memory LRU of prompt payloads, bounded by total bytes. Keys name immutable content (a stored
 * blob's sha256, plus the served dtype for conversions), so entries never go stale and nothing is
 * ever invalidated. Only verified bytes may be put in. A capacity of 0 disables caching.
 */
export class PromptCache {
  private readonly entries = new Map<string, CachedPayload>();
  private readonly loading = new Map<string, Promise<CachedPayload>>();
  private usedBytes = 0;

  /** `onLookup` is told every getOrLoad outcome (e.g. a metrics counter). */
  constructor(
    readonly capacityBytes: number,
    private readonly onLookup?: (result: 'hit' | 'miss') => void,
  ) {
    if (!(capacityBytes >= 0)) throw new Error(`PromptCache: capacityBytes must be >= 0, got ${capacityBytes}`);
  }

  get sizeBytes(): number {
    return this.usedBytes;
  }

  get(key: string): CachedPayload | undefined {
    const entry = this.entries.get(key);
    if (entry !== undefined) {
      // Map iteration order is insertion order: re-inserting marks the entry most recently used.
      this.entries.delete(key);
      this.entries.set(key, entry);
    }
    return entry;
  }

  set(key: string, payload: CachedPayload): void {
    if (payload.bytes.byteLength > this.capacityBytes) return;
    const previous = this.entries.get(key);
    if (previous !== undefined) {
      this.entries.delete(key);
      this.usedBytes -= previous.bytes.byteLength;
    }
    this.entries.set(key, payload);
    this.usedBytes += payload.bytes.byteLength;
    for (const [oldest, entry] of this.entries) {
      if (this.usedBytes <= this.capacityBytes) break;
      this.entries.delete(oldest);
      this.usedBytes -= entry.bytes.byteLength;
    }
  }

  /** The cached value, or `load()`'s result (cached); concurrent misses for one key share one load. */
  async getOrLoad(key: string, load: () => Promise<CachedPayload>): Promise<CachedPayload> {
    const hit = this.get(key);
    this.onLookup?.(hit === undefined ? 'miss' : 'hit');
    if (hit !== undefined) return hit;
    let pending = this.loading.get(key);
    if (pending === undefined) {
      pending = load().then(
        (payload) => {
          this.loading.delete(key);
          this.set(key, payload);
          return payload;
        },
        (err: unknown) => {
          this.loading.delete(key);
          throw err;
        },
      );
      this.loading.set(key, pending);
    }
    return pending;
  }
}
