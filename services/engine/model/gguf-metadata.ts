/** Typed access to GGUF metadata with errors that name the file and the key. */
import type { GgufValue } from './gguf-types.js';

export class GgufMetadata {
  constructor(
    readonly entries: Map<string, GgufValue>,
    private readonly source: string,
  ) {}

  private fail(key: string, what: string): never {
    throw new Error(`${this.source}: metadata "${key}" ${what}`);
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  /** a non-negative integer stored as any integer type */
  count(key: string, fallback?: number): number {
    const v = this.entries.get(key);
    if (v === undefined) return fallback ?? this.fail(key, 'is missing');
    const n =
      v.type === 'u64' || v.type === 'i64'
        ? Number(v.value)
        : v.type === 'u8' || v.type === 'i8' || v.type === 'u16' || v.type === 'i16' || v.type === 'u32' || v.type === 'i32'
          ? v.value
          : undefined;
    if (n === undefined || !Number.isSafeInteger(n) || n < 0) this.fail(key, `must be a non-negative integer (got ${v.type})`);
    return n;
  }

  float(key: string, fallback?: number): number {
    const v = this.entries.get(key);
    if (v === undefined) return fallback ?? this.fail(key, 'is missing');
    if ((v.type !== 'f32' && v.type !== 'f64') || !Number.isFinite(v.value)) this.fail(key, `must be a finite float (got ${v.type})`);
    return v.value;
  }

  string(key: string, fallback?: string): string {
    const v = this.entries.get(key);
    if (v === undefined) return fallback ?? this.fail(key, 'is missing');
    if (v.type !== 'string') this.fail(key, `must be a string (got ${v.type})`);
    return v.value;
  }

  strings(key: string): string[] {
    return this.array(key, 'string').map((x) => (x.type === 'string' ? x.value : ''));
  }

  numbers(key: string, itemTypes: GgufValue['type'][]): number[] | undefined {
    if (!this.entries.has(key)) return undefined;
    const v = this.entries.get(key) as GgufValue;
    if (v.type !== 'array' || !itemTypes.includes(v.itemType)) this.fail(key, `must be an array of ${itemTypes.join('/')}`);
    return v.items.map((x) => (x.type === 'array' ? NaN : Number(x.value)));
  }

  private array(key: string, itemType: GgufValue['type']): GgufValue[] {
    const v = this.entries.get(key);
    if (v === undefined) this.fail(key, 'is missing');
    if (v.type !== 'array' || v.itemType !== itemType) this.fail(key, `must be an array of ${itemType}`);
    return v.items;
  }
}
