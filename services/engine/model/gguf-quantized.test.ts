import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generatedTokenizerSpec } from '../tokenizer/generated-tokenizer.js';
import { generateLlama, presets } from './generate.js';
import { GgufFormatError, parseGgufHeader } from './gguf-parse.js';
import { serializeGguf, type GgufTensorToWrite } from './gguf-serialize.js';
import type { GgufHeader, GgufValue } from './gguf-types.js';
import { encodeLlamaGguf, storageTypeFor } from './gguf-write.js';
import type { F32Tensor, LlamaConfig, LlamaWeights } from './llama.js';
import { dequantize, ggmlCodeOf, quantize, quantizedDTypes, storedDTypes, type StoredDType } from './quant/index.js';

/** rows of 256 everywhere, so every K-quant is used as such */
const kConfig: LlamaConfig = { ...presets.tiny.config, dim: 256, hiddenDim: 512, nLayers: 1, nHeads: 4, nKvHeads: 2 };

/** canonical name → row-major tensor, in the order encodeLlamaGguf writes them */
function ggufTensors(w: LlamaWeights): Map<string, F32Tensor> {
  const out = new Map<string, F32Tensor>([
    ['token_embd.weight', w.tokenEmbedding],
    ['output_norm.weight', w.outputNorm],
  ]);
  if (w.output !== w.tokenEmbedding) out.set('output.weight', w.output);
  w.layers.forEach((l, i) => {
    const parts = {
      attn_norm: l.attnNorm,
      attn_q: l.wq,
      attn_k: l.wk,
      attn_v: l.wv,
      attn_output: l.wo,
      ffn_norm: l.ffnNorm,
      ffn_gate: l.w1,
      ffn_down: l.w2,
      ffn_up: l.w3,
    };
    for (const [k, t] of Object.entries(parts)) out.set(`blk.${i}.${k}.weight`, t);
  });
  return out;
}

function tensorValues(bytes: Uint8Array, header: GgufHeader, name: string): Float32Array {
  const t = header.tensors.find((x) => x.name === name);
  if (!t) throw new Error(`no tensor ${name}`);
  const at = header.dataOffset + t.offset;
  return dequantize(
    t.stored,
    bytes.subarray(at, at + t.byteLength),
    t.dims.reduce((a, b) => a * b, 1),
  );
}

describe('GGUF files in every storage type', () => {
  for (const [label, config] of [
    ['rows of 256', kConfig],
    ['tiny preset (rows of 32 and 96: K-quants fall back)', presets.tiny.config],
  ] as const) {
    it(`${label}: each tensor reads back as its own quantized values`, () => {
      const w = generateLlama(config, 4, { tiedClassifier: false });
      const tensors = ggufTensors(w);
      const sizes: Record<string, number> = {};
      for (const dtype of storedDTypes) {
        const bytes = encodeLlamaGguf(w, generatedTokenizerSpec(config.vocabSize), { dtype });
        sizes[dtype] = bytes.length;
        const header = parseGgufHeader(bytes, `${dtype}.gguf`);
        expect(header.metadata.get('general.file_type')?.type).toBe('u32');
        expect(header.tensors.map((t) => t.name)).toEqual([...tensors.keys()]);
        for (const t of header.tensors) {
          const source = tensors.get(t.name) as F32Tensor;
          const type = storageTypeFor(dtype, source.dims);
          expect([t.name, t.stored]).toEqual([t.name, type]);
          expect(t.dims).toEqual([...source.dims].reverse());
          const at = header.dataOffset + t.offset;
          const stored = bytes.subarray(at, at + t.byteLength);
          expect(Buffer.from(stored).equals(Buffer.from(quantize(type, source.data)))).toBe(true);
        }
      }
      if (config === kConfig) {
        for (const t of quantizedDTypes) expect(sizes[t]).toBeLessThan(sizes.f16);
        expect(sizes.q2_k).toBeLessThan(sizes.q4_k);
        expect(sizes.q4_k).toBeLessThan(sizes.q8_0);
      }
    });
  }

  it('stores vectors as f32 and falls back per row length as llama.cpp does', () => {
    expect(storageTypeFor('q4_k', [64])).toBe('f32');
    expect(storageTypeFor('q4_k', [64, 256])).toBe('q4_k');
    expect(storageTypeFor('q4_k', [64, 96])).toBe('q5_0');
    expect(storageTypeFor('q5_k', [64, 96])).toBe('q5_1');
    expect(storageTypeFor('q6_k', [64, 96])).toBe('q8_0');
    expect(storageTypeFor('q2_k', [64, 96])).toBe('q4_0');
    expect(storageTypeFor('q8_0', [64, 40])).toBe('f16');
    expect(storageTypeFor('f32', [64, 40])).toBe('f32');
  });
});

describe('GGUF bad input around quantized tensors', () => {
  const meta = new Map<string, GgufValue>([['general.architecture', { type: 'string', value: 'llama' }]]);
  const values = (n: number): Float32Array => Float32Array.from({ length: n }, (_, i) => Math.sin(i));
  const tensor = (name: string, rows: number, cols: number, type: StoredDType, writtenAs: StoredDType = type): GgufTensorToWrite => ({
    name,
    dims: [cols, rows],
    typeCode: ggmlCodeOf(type),
    data: quantize(writtenAs, values(rows * cols)),
  });
  const file = (...tensors: GgufTensorToWrite[]): Uint8Array => serializeGguf(meta, tensors);

  it('reads a well-formed quantized file', () => {
    const bytes = file(tensor('a', 4, 256, 'q4_k'), tensor('b', 2, 64, 'q8_0'));
    const h = parseGgufHeader(bytes, 'ok.gguf');
    expect(h.tensors.map((t) => [t.name, t.stored, t.byteLength])).toEqual([
      ['a', 'q4_k', 4 * 144],
      ['b', 'q8_0', 4 * 34],
    ]);
    expect(tensorValues(bytes, h, 'b')).toEqual(dequantize('q8_0', quantize('q8_0', values(128)), 128));
  });

  it('a truncated header or tensor data names the file and says truncated', () => {
    const bytes = file(tensor('a', 4, 256, 'q4_k'), tensor('b', 2, 64, 'q8_0'));
    const h = parseGgufHeader(bytes, 'ok.gguf');
    expect(() => parseGgufHeader(bytes.subarray(0, 60), 'cut.gguf')).toThrow(/^cut\.gguf: invalid GGUF at byte \d+: .*truncated/);
    const one = file(tensor('a', 4, 256, 'q4_k'));
    expect(() => parseGgufHeader(one.subarray(0, h.dataOffset + 300), 'cut.gguf')).toThrow(
      /^cut\.gguf: tensor "a" \(Q4_K, dims \[256, 4\]: 4 blocks of 144 bytes = 576 bytes\) ends at byte \d+, past the end of the \d+-byte file \(truncated file\?\)/,
    );
    const b = h.tensors[1];
    expect(() => parseGgufHeader(bytes.subarray(0, h.dataOffset + b.offset + b.byteLength - 1), 'cut.gguf')).toThrow(
      /^cut\.gguf: tensor "b" \(Q8_0, .*past the end/,
    );
    expect(() => parseGgufHeader(bytes.subarray(0, h.dataOffset + 300), 'cut.gguf')).toThrow(
      /^cut\.gguf: invalid GGUF .*tensor "b" data offset .*truncated/,
    );
  });

  it('an unknown or unreadable ggml type names the tensor and the type id', () => {
    const unknown = file(tensor('a', 4, 256, 'q4_k'), { ...tensor('blk.0.attn_q.weight', 2, 64, 'q8_0'), typeCode: 99 });
    expect(() => parseGgufHeader(unknown, 'u.gguf')).toThrow(
      /^u\.gguf: invalid GGUF at byte \d+: tensor "blk\.0\.attn_q\.weight" is stored as unknown ggml type 99, which ptune does not read \(it reads F32, F16, BF16, Q8_0, .*Q6_K\)/,
    );
    const iq = file({ ...tensor('w', 2, 256, 'q4_k'), typeCode: 16 });
    expect(() => parseGgufHeader(iq, 'iq.gguf')).toThrow(/tensor "w" is stored as IQ2_XXS \(ggml type 16\), which ptune does not read/);
  });

  it('a block count that does not match the shape names tensor, shape, type, expected and actual bytes', () => {
    // "a" claims Q4_0 but holds Q8_0 blocks: the next tensor starts later than Q4_0 allows
    const bigger = file(tensor('a', 2, 64, 'q4_0', 'q8_0'), tensor('b', 2, 64, 'q8_0'));
    expect(() => parseGgufHeader(bigger, 'm.gguf')).toThrow(
      'm.gguf: tensor "a" (Q4_0, dims [64, 2]: 4 blocks of 18 bytes = 72 bytes) needs 96 bytes with padding, ' +
        'but the next tensor "b" starts 160 bytes after it: the shape or type does not match the data',
    );
    // the first tensor must start the data section
    const shifted = file(tensor('a', 2, 64, 'q4_0'));
    // header 24 B; the one metadata entry: key "general.architecture", type, value "llama"; the tensor
    // info: name "a", n_dims, 2 dims, type, then the u64 data offset
    const at = 24 + (8 + 20 + 4 + 8 + 5) + (8 + 1 + 4 + 2 * 8 + 4);
    expect(new DataView(shifted.buffer).getBigUint64(at, true)).toBe(0n);
    new DataView(shifted.buffer).setBigUint64(at, 32n, true);
    expect(() => parseGgufHeader(shifted, 'm.gguf')).toThrow('m.gguf: tensor "a", the first, starts at data offset 32, not 0');
    // the last tensor claims more blocks than the file holds
    const last = file(tensor('a', 2, 64, 'q4_0'), tensor('b', 2, 256, 'q6_k', 'q4_0'));
    expect(() => parseGgufHeader(last, 'm.gguf')).toThrow(
      /^m\.gguf: tensor "b" \(Q6_K, dims \[256, 2\]: 2 blocks of 210 bytes = 420 bytes\) ends at byte \d+, past the end/,
    );
  });

  it('rows that are not whole blocks are refused', () => {
    const odd = file({ name: 'odd', dims: [48, 2], typeCode: ggmlCodeOf('q4_0'), data: new Uint8Array(54) });
    expect(() => parseGgufHeader(odd, 'r.gguf')).toThrow(
      /^r\.gguf: invalid GGUF at byte \d+: tensor "odd" \(Q4_0, dims \[48, 2\]\) has rows of 48 elements, not a whole number of 32-element blocks/,
    );
    const k = file({ name: 'k', dims: [128, 4], typeCode: ggmlCodeOf('q4_k'), data: new Uint8Array(288) });
    expect(() => parseGgufHeader(k, 'r.gguf')).toThrow(
      /tensor "k" \(Q4_K, dims \[128, 4\]\) has rows of 128 elements, not a whole number of 256-element blocks/,
    );
  });

  it('corrupted or cut quantized files parse cleanly or fail with GgufFormatError, and what parses decodes in bounds (fuzz)', () => {
    const bytes = file(tensor('a', 4, 256, 'q4_k'), tensor('b', 2, 64, 'q5_1'), tensor('c', 1, 256, 'q6_k'));
    const headerEnd = parseGgufHeader(bytes, 'x').dataOffset;
    const readAll = (b: Uint8Array): void => {
      let h: GgufHeader;
      try {
        h = parseGgufHeader(b, 'fuzz.gguf');
      } catch (e) {
        expect(e).toBeInstanceOf(GgufFormatError);
        expect((e as Error).message).toMatch(/^fuzz\.gguf: /);
        return;
      }
      for (const t of h.tensors) expect(tensorValues(b, h, t.name).length).toBe(t.dims.reduce((x, y) => x * y, 1));
    };
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(headerEnd - 1), fc.nat(255)), { minLength: 1, maxLength: 6 }), (edits) => {
        const b = bytes.slice();
        for (const [at, v] of edits) b[at] = v;
        readAll(b);
      }),
      { numRuns: 400, seed: 12 },
    );
    fc.assert(
      fc.property(fc.nat(bytes.length), (length) => readAll(bytes.subarray(0, length))),
      { numRuns: 200, seed: 13 },
    );
  });
});
