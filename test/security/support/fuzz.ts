/** Shared generators and bookkeeping for the fuzz suites. */
import fc from 'fast-check';

export interface Verdicts {
  accepted: number;
  refused: number;
}

/**
 * Mutations of a valid file: truncation, bit flips, overwritten bytes, inserted or deleted runs.
 * With `focusEnd`, positions fall in [0, focusEnd) (e.g. a header) most of the time.
 */
export function mutated(valid: Uint8Array, focusEnd = valid.length): fc.Arbitrary<Uint8Array> {
  const position = fc.oneof(
    { weight: 4, arbitrary: fc.nat(Math.max(0, focusEnd - 1)) },
    { weight: 1, arbitrary: fc.nat(Math.max(0, valid.length - 1)) },
  );
  const edit = fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), at: position, bit: fc.nat(7) }),
    fc.record({ kind: fc.constant('set' as const), at: position, bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
    fc.record({ kind: fc.constant('insert' as const), at: position, bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
    fc.record({ kind: fc.constant('delete' as const), at: position, length: fc.integer({ min: 1, max: 16 }) }),
    fc.record({ kind: fc.constant('truncate' as const), at: position }),
  );
  return fc.array(edit, { minLength: 1, maxLength: 4 }).map((edits) => {
    let bytes = valid;
    for (const e of edits) {
      const at = Math.min(e.at, bytes.length);
      switch (e.kind) {
        case 'flip':
          bytes = bytes.slice();
          if (at < bytes.length) bytes[at] ^= 1 << e.bit;
          break;
        case 'set':
          bytes = bytes.slice();
          bytes.set(e.bytes.subarray(0, bytes.length - at), at);
          break;
        case 'insert':
          bytes = concat([bytes.subarray(0, at), e.bytes, bytes.subarray(at)]);
          break;
        case 'delete':
          bytes = concat([bytes.subarray(0, at), bytes.subarray(at + e.length)]);
          break;
        case 'truncate':
          bytes = bytes.slice(0, at);
          break;
      }
    }
    return bytes;
  });
}

/** Resident memory growth in MiB since the call (a reader that allocates what a header claims shows here). */
export function rssGrowthMiB(): () => number {
  const start = process.memoryUsage().rss;
  return () => (process.memoryUsage().rss - start) / 2 ** 20;
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
