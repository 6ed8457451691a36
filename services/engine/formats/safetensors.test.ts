import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { roundToF16 } from './half.js';
import { readSafetensors, tensorToFloat32, writeSafetensors } from './safetensors.js';

/** builds a file from a hand-written header (to test what the writer would never produce) */
function rawFile(header: unknown, dataBytes: number): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  return out;
}

describe('safetensors', () => {
  const values = Float32Array.from([1, -2.5, 3.14159, 1e-8, 65504, -0]);

  it('round-trips F32, F16 and BF16 tensors with metadata', () => {
    const bytes = writeSafetensors(
      {
        prompt_embeddings: { dtype: 'F32', shape: [2, 3], data: values },
        half: { dtype: 'F16', shape: [6], data: values },
        brain: { dtype: 'BF16', shape: [3, 2], data: values },
      },
      { method: 'prompt_tuning', seed: '0' },
    );
    const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(headerLength % 8).toBe(0);
    const file = readSafetensors(bytes);
    expect(file.metadata).toEqual({ method: 'prompt_tuning', seed: '0' });
    expect(file.tensors.prompt_embeddings.shape).toEqual([2, 3]);
    expect(tensorToFloat32(file.tensors.prompt_embeddings)).toEqual(values);
    expect(tensorToFloat32(file.tensors.half)).toEqual(roundToF16(values));
    expect(tensorToFloat32(file.tensors.brain)[2]).toBeCloseTo(3.14159, 2);
    expect(Object.keys(file.tensors).sort()).toEqual(['brain', 'half', 'prompt_embeddings']);
  });

  it('is deterministic', () => {
    const t = {
      b: { dtype: 'F32' as const, shape: [1], data: Float32Array.of(1) },
      a: { dtype: 'F32' as const, shape: [0], data: new Float32Array(0) },
    };
    expect(writeSafetensors(t, { x: 'y' })).toEqual(writeSafetensors({ a: t.a, b: t.b }, { x: 'y' }));
  });

  it('refuses to write inconsistent tensors', () => {
    expect(() => writeSafetensors({ x: { dtype: 'F32', shape: [4], data: new Float32Array(3) } })).toThrow(
      /tensor "x": 12 bytes of data but F32 \[4\] needs 16/,
    );
    expect(() => writeSafetensors({ x: { dtype: 'F32', shape: [-1], data: new Float32Array(0) } })).toThrow(/shape/);
  });

  it('rejects malformed files with a reason', () => {
    const t = (dtype: string, shape: number[], data_offsets: number[]): unknown => ({ dtype, shape, data_offsets });
    const cases: [Uint8Array, RegExp][] = [
      [new Uint8Array(4), /too short/],
      [rawFile({ a: t('F32', [1], [0, 4]) }, 4).subarray(0, 10), /header length/],
      [rawFile([1, 2], 0), /must be a JSON object/],
      [rawFile({ a: t('Q4', [1], [0, 4]) }, 4), /unknown dtype "Q4"/],
      [rawFile({ a: t('F32', [2], [0, 4]) }, 4), /= 8 bytes but its offsets span 4/],
      [rawFile({ a: t('F32', [1], [0, 4]), b: t('F32', [1], [2, 6]) }, 8), /overlaps/],
      [rawFile({ a: t('F32', [1], [4, 8]) }, 8), /gap of 4 bytes/],
      [rawFile({ a: t('F32', [1], [0, 4]) }, 8), /4 trailing bytes/],
      [rawFile({ a: t('F32', [1], [0, 8]) }, 4), /past the 4-byte data section/],
      [rawFile({ a: t('F32', [1.5], [0, 4]) }, 4), /shape must be/],
      [rawFile({ __metadata__: { n: 1 } }, 0), /__metadata__\."n" must be a string/],
      [rawFile({ a: { ...(t('F32', [1], [0, 4]) as object), extra: 1 } }, 4), /unknown fields extra/],
    ];
    for (const [bytes, message] of cases) expect(() => readSafetensors(bytes, { source: 'p.safetensors' })).toThrow(message);
    expect(() => readSafetensors(new Uint8Array(4), { source: 'p.safetensors' })).toThrow(/^p\.safetensors: invalid safetensors/);
  });

  it('rejects NaN/Inf on request only', () => {
    const bytes = writeSafetensors({ w: { dtype: 'F32', shape: [3], data: Float32Array.of(1, NaN, 2) } });
    expect(() => readSafetensors(bytes)).not.toThrow();
    expect(() => readSafetensors(bytes, { rejectNonFinite: true, source: 'w.st' })).toThrow(
      /w\.st: .*"w" holds a non-finite value at flat index 1/,
    );
  });

  it('throws clean errors on random corruption (fuzz)', () => {
    const good = writeSafetensors({ a: { dtype: 'F16', shape: [2, 2], data: Float32Array.of(1, 2, 3, 4) } }, { k: 'v' });
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(good.length - 1), fc.nat(255)), { minLength: 1, maxLength: 6 }), (edits) => {
        const bytes = good.slice();
        for (const [at, v] of edits) bytes[at] = v;
        try {
          readSafetensors(bytes, { source: 'fuzz' });
        } catch (e) {
          expect((e as Error).message).toMatch(/^fuzz: invalid safetensors/);
        }
      }),
      { numRuns: 500, seed: 3 },
    );
  });
});
