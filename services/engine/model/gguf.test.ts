import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadGguf, loadGgufBytes } from './gguf.js';
import { llamaSpec } from './llama.js';
import { ggmlTensorBytes, parseGgufHeader } from './gguf-parse.js';
import { serializeGguf, type GgufTensorToWrite } from './gguf-serialize.js';
import type { GgufValue } from './gguf-types.js';
import { stories260K } from './stories260k-fixture.js';

const STORIES_SHA256 = '270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d';

/** Re-serializes a GGUF file after `edit` changed its metadata or tensors. */
function rewrite(bytes: Uint8Array, edit: (meta: Map<string, GgufValue>, tensors: GgufTensorToWrite[]) => void): Uint8Array {
  const h = parseGgufHeader(bytes, 'fixture');
  const tensors = h.tensors.map((t) => {
    const size = ggmlTensorBytes(
      t.typeCode,
      t.dims.reduce((a, b) => a * b, 1),
    ) as number;
    const start = h.dataOffset + t.offset;
    return { name: t.name, dims: t.dims, typeCode: t.typeCode, data: bytes.slice(start, start + size) };
  });
  edit(h.metadata, tensors);
  return serializeGguf(h.metadata, tensors);
}

describe.skipIf(!stories260K.available)('loadGguf on stories260K', () => {
  it('reads spec, weights, tokenizer and fingerprint', async () => {
    const m = await loadGguf(stories260K.ggufPath);
    expect(m.fingerprint).toBe(STORIES_SHA256);
    expect(m.source).toEqual({ kind: 'gguf', path: stories260K.ggufPath });
    expect({ ...m.spec, norm: { ...m.spec.norm, eps: Math.fround(m.spec.norm.eps) } }).toEqual({
      ...llamaSpec({
        dim: 64,
        hiddenDim: 172,
        nLayers: 5,
        nHeads: 8,
        nKvHeads: 4,
        vocabSize: 512,
        contextLength: 2048,
        normEps: Math.fround(1e-5),
        ropeTheta: 10000,
      }),
      embedding: { tied: false },
    });
    const t = (name: string): number[] | undefined => m.tensors.get(name)?.dims;
    expect(t('embed_tokens.weight')).toEqual([512, 64]);
    expect(t('layers.0.k_proj.weight')).toEqual([32, 64]);
    expect(t('layers.0.o_proj.weight')).toEqual([64, 64]);
    expect(t('layers.4.gate_proj.weight')).toEqual([172, 64]);
    expect(t('layers.4.down_proj.weight')).toEqual([64, 172]);
    // the original checkpoint tied the classifier to the embedding; the file stores a copy
    expect(m.tensors.get('lm_head.weight')?.data).toEqual(m.tensors.get('embed_tokens.weight')?.data);
    expect(m.weights.list().map((w) => w.name)).toEqual([...m.tensors.keys()]);
    for (const x of m.tensors.values()) {
      expect(x.data.length).toBe(x.dims.reduce((a: number, b: number) => a * b, 1));
      expect(x.data.every(Number.isFinite)).toBe(true);
    }
    expect(m.tokenizer.vocabSize).toBe(512);
  });

  const original = stories260K.available ? new Uint8Array(readFileSync(stories260K.ggufPath)) : new Uint8Array();

  it('ties the classifier to the embedding when output.weight is absent', () => {
    const bytes = rewrite(original, (_, tensors) =>
      tensors.splice(
        tensors.findIndex((t) => t.name === 'output.weight'),
        1,
      ),
    );
    const m = loadGgufBytes(bytes, 'untied.gguf');
    expect(m.spec.embedding.tied).toBe(true);
    expect(m.tensors.has('lm_head.weight')).toBe(false);
  });

  it('names the file in errors for truncation, other architectures, missing and quantized tensors', () => {
    expect(() => loadGgufBytes(original.subarray(0, original.length - 100), 'cut.gguf')).toThrow(/cut\.gguf: .*past the end.*truncated/);
    expect(() => loadGgufBytes(original.subarray(0, 3000), 'cut.gguf')).toThrow(/cut\.gguf: invalid GGUF.*truncated/);
    const other = rewrite(original, (meta) => meta.set('general.architecture', { type: 'string', value: 'mamba' }));
    expect(() => loadGgufBytes(other, 'o.gguf')).toThrow(/o\.gguf: general\.architecture "mamba" is not supported/);
    const missing = rewrite(original, (_, t) =>
      t.splice(
        t.findIndex((x) => x.name === 'blk.3.ffn_up.weight'),
        1,
      ),
    );
    expect(() => loadGgufBytes(missing, 'm.gguf')).toThrow(/m\.gguf: tensor "blk\.3\.ffn_up\.weight" is missing/);
    const quant = rewrite(original, (_, t) => {
      const x = t.find((y) => y.name === 'blk.0.attn_q.weight') as GgufTensorToWrite;
      x.typeCode = 2; // Q4_0
    });
    expect(() => loadGgufBytes(quant, 'q.gguf')).toThrow(/q\.gguf: tensor "blk\.0\.attn_q\.weight" \(Q4_0, .*does not match the data/);
    const noKey = rewrite(original, (meta) => meta.delete('llama.block_count'));
    expect(() => loadGgufBytes(noKey, 'k.gguf')).toThrow(/k\.gguf: metadata "llama\.block_count" is missing/);
  });

  it('throws clean errors on corrupted headers (fuzz)', () => {
    const headerEnd = parseGgufHeader(original, 'x').dataOffset;
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(headerEnd - 1), fc.nat(255)), { minLength: 1, maxLength: 8 }), (edits) => {
        const bytes = original.slice();
        for (const [at, v] of edits) bytes[at] = v;
        try {
          loadGgufBytes(bytes, 'fuzz.gguf');
        } catch (e) {
          expect(e).toBeInstanceOf(Error);
          expect((e as Error).message).toMatch(/fuzz\.gguf/);
        }
      }),
      { numRuns: 300, seed: 7 },
    );
    fc.assert(
      fc.property(fc.nat(original.length - 1), (length) => {
        expect(() => loadGgufBytes(original.subarray(0, length), 'cut.gguf')).toThrow(/^cut\.gguf: /);
      }),
      { numRuns: 200, seed: 8 },
    );
  });
});

describe('GGUF header parser on hostile input', () => {
  it('rejects random bytes with a clean error', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
        expect(() => parseGgufHeader(bytes, 'rand.gguf')).toThrow(/rand\.gguf/);
        const withMagic = new Uint8Array(8 + bytes.length);
        withMagic.set([0x47, 0x47, 0x55, 0x46, 3, 0, 0, 0]);
        withMagic.set(bytes, 8);
        expect(() => loadGgufBytes(withMagic, 'rand.gguf')).toThrow(/^rand\.gguf: /);
      }),
      { numRuns: 500, seed: 1 },
    );
  });

  it('bounds huge counts by the file size instead of allocating', () => {
    const head = new Uint8Array(64);
    const v = new DataView(head.buffer);
    v.setUint32(0, 0x46554747, true);
    v.setUint32(4, 3, true);
    v.setBigUint64(8, 0n, true);
    v.setBigUint64(16, 1n, true); // one kv
    v.setBigUint64(24, 1n, true); // key length 1
    head[32] = 0x61;
    v.setUint32(33, 9, true); // array
    v.setUint32(37, 0, true); // of u8
    v.setBigUint64(41, 0xffffffffffffn, true);
    expect(() => parseGgufHeader(head, 'big.gguf')).toThrow(/big\.gguf: .*array length is 281474976710655/);
    v.setBigUint64(8, 1n << 40n, true);
    expect(() => parseGgufHeader(head, 'big.gguf')).toThrow(/tensor count/);
  });
});
if (!stories260K.available) console.warn(`skipping stories260K GGUF tests: ${stories260K.skipReason}`);
