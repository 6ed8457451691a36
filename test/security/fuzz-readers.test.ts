/**
 * Property-based fuzzing of the file readers that take untrusted bytes: safetensors, GGUF and JSONL.
 * Each property runs 10,000 generated inputs (random bytes, structured near-valid files, and
 * mutations of valid ones). Every input must be either accepted or refused with the reader's own
 * error (never a TypeError/RangeError from deep inside), whose message names the source and says
 * what is wrong; nothing may allocate more than the input justifies (memory) and the whole suite
 * runs under the test timeout (no hang).
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { DataError, isChatExample, parseExamplesJsonl } from '../../services/engine/data/jsonl.js';
import { readSafetensors, writeSafetensors } from '../../services/engine/formats/safetensors.js';
import { loadGgufBytes } from '../../services/engine/model/gguf.js';
import { GgufFormatError, parseGgufHeader } from '../../services/engine/model/gguf-parse.js';
import { tinyModelBytes } from './fixtures.js';
import { concat, mutated, rssGrowthMiB, type Verdicts } from './support/fuzz.js';

const RUNS = 10_000;
const SOURCE = 'fuzz-input';

/** Throws (so fast-check shrinks and reports the input) unless `err` is a clean refusal. */
function expectCleanRefusal(err: unknown, ownClasses: readonly (abstract new (...args: never[]) => Error)[], prefix: string): void {
  if (!(err instanceof Error)) throw new Error(`threw a non-Error: ${String(err)}`);
  const own = ownClasses.some((C) => err.constructor === C);
  if (!own) throw new Error(`threw ${err.constructor.name} (not the reader's own error): ${err.message}`);
  if (!err.message.startsWith(prefix) || err.message.length < prefix.length + 10)
    throw new Error(`unclear message: ${JSON.stringify(err.message)}`);
}

describe('safetensors reader under hostile input', () => {
  const valid = writeSafetensors(
    {
      a: { dtype: 'F32', shape: [2, 3], data: new Float32Array(6).fill(0.5) },
      b: { dtype: 'BF16', shape: [4], data: new Float32Array(4) },
    },
    { k: 'v' },
  );
  const headerJson = fc.oneof(
    fc.json(),
    fc
      .dictionary(
        fc.oneof(fc.string({ maxLength: 8 }), fc.constant('__metadata__')),
        fc.oneof(
          fc.record(
            {
              dtype: fc.oneof(fc.constantFrom('F32', 'F16', 'BF16', 'I64', 'U8', 'BOOL', 'F8_E4M3'), fc.string({ maxLength: 4 })),
              shape: fc.array(fc.oneof(fc.nat(16), fc.integer(), fc.double(), fc.constant(2 ** 53)), { maxLength: 4 }),
              data_offsets: fc.array(fc.oneof(fc.nat(64), fc.integer(), fc.constant(-1), fc.constant(Number.MAX_SAFE_INTEGER)), {
                maxLength: 3,
              }),
            },
            { requiredKeys: [] },
          ),
          fc.jsonValue(),
        ),
        { maxKeys: 4 },
      )
      .map((o) => JSON.stringify(o)),
  );
  const structured = fc
    .tuple(
      headerJson,
      fc.uint8Array({ maxLength: 96 }),
      fc.oneof(fc.constant(0), fc.integer({ min: -8, max: 8 }), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })),
    )
    .map(([json, data, skew]) => {
      const header = new TextEncoder().encode(json);
      const out = new Uint8Array(8 + header.length + data.length);
      const length = typeof skew === 'bigint' ? skew : BigInt(Math.max(0, header.length + skew));
      new DataView(out.buffer).setBigUint64(0, length, true);
      out.set(header, 8);
      out.set(data, 8 + header.length);
      return out;
    });
  const input = fc.oneof(fc.uint8Array({ maxLength: 256 }), structured, mutated(valid));

  it(`refuses or accepts ${RUNS} generated files, never crashing, with a clear error`, () => {
    const verdicts: Verdicts = { accepted: 0, refused: 0 };
    const rss = rssGrowthMiB();
    fc.assert(
      fc.property(input, (bytes) => {
        try {
          const file = readSafetensors(bytes, { source: SOURCE, rejectNonFinite: true });
          const held = Object.values(file.tensors).reduce((sum, t) => sum + t.bytes.byteLength, 0);
          if (held > bytes.length) throw new Error(`tensors claim ${held} bytes of a ${bytes.length}-byte file`);
          verdicts.accepted++;
        } catch (err) {
          expectCleanRefusal(err, [Error], `${SOURCE}: invalid safetensors: `);
          verdicts.refused++;
        }
      }),
      { numRuns: RUNS, seed: 7 },
    );
    expect(verdicts.accepted + verdicts.refused).toBe(RUNS);
    expect(verdicts.accepted).toBeGreaterThan(0);
    expect(verdicts.refused).toBeGreaterThan(RUNS / 2);
    expect(rss()).toBeLessThan(512);
  });
});

describe('GGUF reader under hostile input', () => {
  let model: Uint8Array;
  beforeAll(async () => {
    model = await tinyModelBytes();
  });

  const u32 = (v: number): Uint8Array => new Uint8Array(new Uint32Array([v >>> 0]).buffer);
  const u64 = (v: bigint): Uint8Array => new Uint8Array(new BigUint64Array([BigInt.asUintN(64, v)]).buffer);
  const gstring = (s: string, declared?: bigint): Uint8Array => {
    const b = new TextEncoder().encode(s);
    return concat([u64(declared ?? BigInt(b.length)), b]);
  };
  const count = fc.oneof(fc.bigInt({ min: 0n, max: 4n }), fc.constant(2n ** 63n), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }));
  const kv = fc
    .tuple(fc.string({ maxLength: 12 }), fc.oneof(fc.nat(13), fc.nat()), count, fc.uint8Array({ maxLength: 24 }))
    .map(([key, type, n, payload]) => concat([gstring(key), u32(type), type === 9 ? concat([u32(8), u64(n)]) : new Uint8Array(), payload]));
  const tensorInfo = fc
    .tuple(
      fc.string({ maxLength: 8 }),
      fc.oneof(fc.nat(5), fc.nat()),
      fc.array(count, { maxLength: 5 }),
      fc.oneof(fc.nat(32), fc.nat()),
      count,
    )
    .map(([name, nDims, dims, type, offset]) => concat([gstring(name), u32(nDims), ...dims.map(u64), u32(type), u64(offset)]));
  const header = fc
    .tuple(
      fc.constantFrom(2, 3, 1, 4, 0xffffffff),
      count,
      count,
      fc.array(kv, { maxLength: 4 }),
      fc.array(tensorInfo, { maxLength: 3 }),
      fc.uint8Array({ maxLength: 64 }),
    )
    .map(([version, tensors, kvs, kvBytes, infoBytes, tail]) =>
      concat([new TextEncoder().encode('GGUF'), u32(version), u64(tensors), u64(kvs), ...kvBytes, ...infoBytes, tail]),
    );

  it(`parses or refuses ${RUNS} generated headers with GgufFormatError`, () => {
    const verdicts: Verdicts = { accepted: 0, refused: 0 };
    const rss = rssGrowthMiB();
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 128 }), header), (bytes) => {
        try {
          const parsed = parseGgufHeader(bytes, SOURCE);
          if (parsed.tensors.length + parsed.metadata.size > bytes.length) throw new Error('more entries than bytes');
          verdicts.accepted++;
        } catch (err) {
          expectCleanRefusal(err, [GgufFormatError], `${SOURCE}: `);
          verdicts.refused++;
        }
      }),
      { numRuns: RUNS, seed: 11 },
    );
    expect(verdicts.accepted).toBeGreaterThan(0);
    expect(verdicts.refused).toBeGreaterThan(0);
    expect(rss()).toBeLessThan(512);
  });

  it(`loads or refuses ${RUNS} mutations of a real model file`, () => {
    const verdicts: Verdicts = { accepted: 0, refused: 0 };
    const rss = rssGrowthMiB();
    // Mutations concentrate on the header (metadata, tokenizer, tensor table): the tensor data
    // itself is plain floats that any bytes satisfy.
    const headerEnd = parseGgufHeader(model, 'model').dataOffset;
    fc.assert(
      fc.property(mutated(model, headerEnd), (bytes) => {
        try {
          loadGgufBytes(bytes, SOURCE);
          verdicts.accepted++;
        } catch (err) {
          expectCleanRefusal(err, [GgufFormatError, Error], `${SOURCE}: `);
          verdicts.refused++;
        }
      }),
      { numRuns: RUNS, seed: 13 },
    );
    expect(verdicts.refused).toBeGreaterThan(RUNS / 10);
    expect(rss()).toBeLessThan(768);
  }, 120_000);
});

describe('JSONL dataset reader under hostile input', () => {
  const line = fc.oneof(
    fc.string({ maxLength: 40, unit: 'grapheme' }),
    fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)),
    fc
      .record(
        {
          input: fc.oneof(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 1 })),
          output: fc.oneof(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 1 })),
        },
        { requiredKeys: [] },
      )
      .map((v) => JSON.stringify(v)),
    fc.constantFrom(
      '',
      '   ',
      '\uFEFF{"input":"a","output":"b"}',
      '{"input":"a","output":"b"}\r',
      '{"input":"a","output":""}',
      '[]',
      'null',
      '{"input":"a"',
    ),
  );
  const text = fc.oneof(
    fc.string({ maxLength: 200, unit: 'binary' }),
    fc.array(line, { maxLength: 12 }).map((lines) => lines.join('\n')),
  );

  it(`accepts or refuses ${RUNS} generated files with DataError naming every bad line`, () => {
    const verdicts: Verdicts = { accepted: 0, refused: 0 };
    fc.assert(
      fc.property(text, (content) => {
        try {
          const examples = parseExamplesJsonl(content, SOURCE);
          const chars = examples.reduce((sum, e) => sum + (isChatExample(e) ? 0 : e.input.length + e.output.length), 0);
          if (examples.length === 0 || chars > content.length) throw new Error('accepted an empty or inflated dataset');
          verdicts.accepted++;
        } catch (err) {
          expectCleanRefusal(err, [DataError], `${SOURCE}: `);
          const problems = (err as DataError).problems;
          if (problems.length === 0 || !problems.every((p) => /^fuzz-input(:\d+)?: ./.test(p)))
            throw new Error(`problems without a line: ${JSON.stringify(problems)}`, { cause: err });
          verdicts.refused++;
        }
      }),
      { numRuns: RUNS, seed: 17 },
    );
    expect(verdicts.accepted).toBeGreaterThan(0);
    expect(verdicts.refused).toBeGreaterThan(0);
  });
});
