/**
 * Bounds-checked GGUF header parser over an in-memory file. Every count and length is checked
 * against the bytes that remain, so hostile input fails fast with a clean error instead of
 * hanging or allocating. (@huggingface/gguf 0.4.6 was tried: on a truncated local file it pads
 * with zeros and "succeeds", so ptune parses the header itself.)
 */
import {
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_MAGIC,
  GgufValueCode,
  type GgufHeader,
  type GgufTensorInfo,
  type GgufValue,
  type GgufValueKind,
} from './gguf-types.js';
import { blockBytes, blockElements, ggmlNameOf, ggmlTypeLabel, readableGgmlTypes, storedDTypeOfGgmlCode } from './quant/index.js';

const MAX_DIMS = 4;
/** the densest type (Q2_K, 2.625 bits) packs about 3 elements per byte: a bound for dims read from hostile files */
const MAX_ELEMENTS_PER_BYTE = 4;
const MAX_ARRAY_DEPTH = 4;
/** smallest encoded size of one metadata entry: key length (8) + type (4) + a 1-byte value */
const MIN_KV_BYTES = 13;
/** smallest encoded size of one tensor info: name length (8) + n_dims (4) + type (4) + offset (8) */
const MIN_TENSOR_INFO_BYTES = 24;

const kindByCode = new Map<number, GgufValueKind>(Object.entries(GgufValueCode).map(([k, v]) => [v, k as GgufValueKind]));
const fixedSize: Partial<Record<GgufValueKind, number>> = {
  u8: 1,
  i8: 1,
  bool: 1,
  u16: 2,
  i16: 2,
  u32: 4,
  i32: 4,
  f32: 4,
  u64: 8,
  i64: 8,
  f64: 8,
};
const utf8 = new TextDecoder('utf-8', { fatal: true });

export class GgufFormatError extends Error {}

/** Thrown when the header goes on past the prefix given to the parser: read `needed` bytes and parse again. */
export class GgufNeedMoreBytes extends GgufFormatError {
  constructor(
    message: string,
    readonly needed: number,
  ) {
    super(message);
  }
}

/** The first prefix a header read tries, and the most any header may take (real ones, vocabulary included, take tens of MiB). */
export const FIRST_HEADER_BYTES = 1 << 20;
export const MAX_HEADER_BYTES = 256 << 20;

/**
 * How many bytes the next attempt at a header reads after `e`: what the parser asked for, at least
 * twice the last attempt, at most the file; past MAX_HEADER_BYTES the file is refused, so that a
 * crafted header (a string length close to the file's size) cannot make the reader hold the file.
 */
export function nextHeaderLength(e: GgufNeedMoreBytes, last: number, size: number, source: string): number {
  const next = Math.min(size, Math.max(e.needed, 2 * last));
  if (next > MAX_HEADER_BYTES)
    throw new GgufFormatError(
      `${source}: the GGUF header would take more than ${MAX_HEADER_BYTES >> 20} MiB (${e.message}): not a model file this loader reads`,
    );
  return next;
}

class Cursor {
  private readonly view: DataView;
  pos = 0;
  constructor(
    private readonly bytes: Uint8Array,
    private readonly source: string,
    /** the whole file's length; `bytes` may be a prefix of it */
    private readonly fileSize: number,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  /** bytes left in the file (bounds every count and length read from it) */
  get remaining(): number {
    return this.fileSize - this.pos;
  }
  fail(what: string): never {
    throw new GgufFormatError(`${this.source}: invalid GGUF at byte ${this.pos}: ${what}`);
  }
  need(n: number, what: string): void {
    if (n > this.remaining) this.fail(`${what} needs ${n} bytes but only ${this.remaining} remain (truncated file?)`);
    if (this.pos + n > this.bytes.length) {
      throw new GgufNeedMoreBytes(`${this.source}: the GGUF header goes past the first ${this.bytes.length} bytes read`, this.pos + n);
    }
  }
  u8(): number {
    this.need(1, 'u8');
    return this.view.getUint8(this.pos++);
  }
  i8(): number {
    this.need(1, 'i8');
    return this.view.getInt8(this.pos++);
  }
  u16(): number {
    this.need(2, 'u16');
    const v = this.view.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }
  i16(): number {
    this.need(2, 'i16');
    const v = this.view.getInt16(this.pos, true);
    this.pos += 2;
    return v;
  }
  u32(): number {
    this.need(4, 'u32');
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }
  i32(): number {
    this.need(4, 'i32');
    const v = this.view.getInt32(this.pos, true);
    this.pos += 4;
    return v;
  }
  f32(): number {
    this.need(4, 'f32');
    const v = this.view.getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }
  f64(): number {
    this.need(8, 'f64');
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }
  u64(): bigint {
    this.need(8, 'u64');
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    return v;
  }
  i64(): bigint {
    this.need(8, 'i64');
    const v = this.view.getBigInt64(this.pos, true);
    this.pos += 8;
    return v;
  }
  /** a u64 count/size that must be ≤ limit (so it is also a safe JS number) */
  size(what: string, limit: number): number {
    const v = this.u64();
    if (v > BigInt(limit)) this.fail(`${what} is ${v}, more than the ${limit} the rest of the file allows (truncated or corrupt file?)`);
    return Number(v);
  }
  string(what: string): string {
    const len = this.size(`${what} length`, this.remaining - 8);
    this.need(len, what);
    const raw = this.bytes.subarray(this.pos, this.pos + len);
    this.pos += len;
    try {
      return utf8.decode(raw);
    } catch {
      return this.fail(`${what} is not valid UTF-8`);
    }
  }
}

function readValue(c: Cursor, kind: GgufValueKind, depth: number): GgufValue {
  switch (kind) {
    case 'u8':
      return { type: kind, value: c.u8() };
    case 'i8':
      return { type: kind, value: c.i8() };
    case 'u16':
      return { type: kind, value: c.u16() };
    case 'i16':
      return { type: kind, value: c.i16() };
    case 'u32':
      return { type: kind, value: c.u32() };
    case 'i32':
      return { type: kind, value: c.i32() };
    case 'f32':
      return { type: kind, value: shortestF32(c.f32()) };
    case 'f64':
      return { type: kind, value: c.f64() };
    case 'u64':
      return { type: kind, value: c.u64() };
    case 'i64':
      return { type: kind, value: c.i64() };
    case 'bool': {
      const b = c.u8();
      if (b > 1) c.fail(`bool value ${b} is neither 0 nor 1`);
      return { type: kind, value: b === 1 };
    }
    case 'string':
      return { type: kind, value: c.string('string value') };
    case 'array': {
      if (depth >= MAX_ARRAY_DEPTH) c.fail(`arrays nested deeper than ${MAX_ARRAY_DEPTH}`);
      const itemType = valueKind(c, c.u32());
      const minItemBytes = fixedSize[itemType] ?? 8; // strings and arrays take ≥ 8 bytes each
      const count = c.size('array length', Math.floor((c.remaining - 8) / minItemBytes));
      const items: GgufValue[] = new Array(count);
      for (let i = 0; i < count; i++) items[i] = readValue(c, itemType, depth + 1);
      return { type: 'array', itemType, items };
    }
  }
}

/** the shortest decimal that rounds to the same float32 (so 1e-5 reads back as 1e-5) */
function shortestF32(v: number): number {
  if (!Number.isFinite(v) || v === 0) return v;
  for (let p = 1; p < 9; p++) {
    const d = Number(v.toPrecision(p));
    if (Math.fround(d) === v) return d;
  }
  return v;
}

function valueKind(c: Cursor, code: number): GgufValueKind {
  const kind = kindByCode.get(code);
  if (kind === undefined) c.fail(`unknown metadata value type ${code}`);
  return kind;
}

/** Byte size of a tensor of a type ptune reads, or undefined (unreadable type, or not whole blocks). */
export function ggmlTensorBytes(typeCode: number, elementCount: number): number | undefined {
  const type = storedDTypeOfGgmlCode(typeCode);
  if (type === undefined || elementCount % blockElements(type) !== 0) return undefined;
  return (elementCount / blockElements(type)) * blockBytes(type);
}

/**
 * Parses the header of a GGUF file of `fileSize` bytes from its first bytes, `bytes` (the whole file
 * or a prefix: a header longer than the prefix throws GgufNeedMoreBytes saying how many bytes to
 * read). `source` (usually the path) prefixes every error.
 * Every tensor must be of a type ptune reads, its rows whole blocks of that type, and its data must
 * fill exactly the space up to the next tensor (ggml's own rule: tensors are laid out in order,
 * each padded to the alignment) and end inside the file.
 */
export function parseGgufHeader(bytes: Uint8Array, source: string, fileSize: number = bytes.length): GgufHeader {
  const c = new Cursor(bytes, source, fileSize);
  if (fileSize < 24) c.fail(`file is ${fileSize} bytes, too short for a GGUF header`);
  if (c.u32() !== GGUF_MAGIC) {
    c.pos = 0;
    c.fail('missing "GGUF" magic: not a GGUF file');
  }
  const version = c.u32();
  if (version !== 2 && version !== 3) c.fail(`GGUF version ${version} is not supported (only 2 and 3)`);
  const tensorCount = c.size('tensor count', Math.floor((c.remaining - 8) / MIN_TENSOR_INFO_BYTES));
  const kvCount = c.size('metadata entry count', Math.floor(c.remaining / MIN_KV_BYTES));

  const metadata = new Map<string, GgufValue>();
  for (let i = 0; i < kvCount; i++) {
    const key = c.string(`metadata key #${i}`);
    if (metadata.has(key)) c.fail(`duplicate metadata key "${key}"`);
    metadata.set(key, readValue(c, valueKind(c, c.u32()), 0));
  }

  let alignment = GGUF_DEFAULT_ALIGNMENT;
  const align = metadata.get('general.alignment');
  if (align !== undefined) {
    const a = align.type === 'u32' ? align.value : 0;
    if (a === 0 || (a & (a - 1)) !== 0 || a > 1 << 20) c.fail('general.alignment must be a u32 power of two');
    alignment = a;
  }

  const tensors: GgufTensorInfo[] = [];
  const names = new Set<string>();
  for (let i = 0; i < tensorCount; i++) {
    const name = c.string(`tensor #${i} name`);
    if (names.has(name)) c.fail(`duplicate tensor "${name}"`);
    names.add(name);
    const nDims = c.u32();
    if (nDims < 1 || nDims > MAX_DIMS) c.fail(`tensor "${name}" has ${nDims} dims (1..${MAX_DIMS} allowed)`);
    const dims: number[] = [];
    let elements = 1;
    for (let d = 0; d < nDims; d++) {
      const dim = c.size(`tensor "${name}" dim ${d}`, fileSize * MAX_ELEMENTS_PER_BYTE);
      dims.push(dim);
      elements *= dim;
      if (elements > fileSize * MAX_ELEMENTS_PER_BYTE) {
        c.fail(`tensor "${name}" has ${elements} elements, more than a ${fileSize}-byte file can hold (truncated file?)`);
      }
    }
    const typeCode = c.u32();
    const stored = storedDTypeOfGgmlCode(typeCode);
    if (stored === undefined) {
      return c.fail(`tensor "${name}" is stored as ${ggmlTypeLabel(typeCode)}, which ptune does not read (it reads ${readableGgmlTypes})`);
    }
    const per = blockElements(stored);
    if (dims[0] % per !== 0) {
      c.fail(
        `tensor "${name}" (${ggmlNameOf(stored)}, dims [${dims.join(', ')}]) has rows of ${dims[0]} elements, not a whole number of ${per}-element blocks`,
      );
    }
    const offset = c.size(`tensor "${name}" data offset`, fileSize);
    if (offset % alignment !== 0) c.fail(`tensor "${name}" data offset ${offset} is not aligned to ${alignment}`);
    tensors.push({ name, dims, typeCode, stored, offset, byteLength: (elements / per) * blockBytes(stored) });
  }

  const dataOffset = Math.ceil(c.pos / alignment) * alignment;
  checkTensorLayout(tensors, dataOffset, alignment, fileSize, source);
  return { version, metadata, tensors, alignment, dataOffset };
}

/**
 * Each tensor's data starts where the previous one's (padded) ends, so a shape or type that does
 * not match the bytes written for it shows up as a wrong offset of the next tensor; the last one
 * must end inside the file.
 */
function checkTensorLayout(tensors: GgufTensorInfo[], dataOffset: number, alignment: number, fileBytes: number, source: string): void {
  const describe = (t: GgufTensorInfo): string =>
    `tensor "${t.name}" (${ggmlNameOf(t.stored)}, dims [${t.dims.join(', ')}]: ` +
    `${t.byteLength / blockBytes(t.stored)} blocks of ${blockBytes(t.stored)} bytes = ${t.byteLength} bytes)`;
  const fail = (message: string): never => {
    throw new GgufFormatError(`${source}: ${message}`);
  };
  if (tensors.length > 0 && tensors[0].offset !== 0) {
    fail(
      `tensor "${tensors[0].name}", the first, starts at data offset ${tensors[0].offset}, not 0 (ggml lays tensors out back to back from the start)`,
    );
  }
  let expectedOffset = 0;
  tensors.forEach((t, i) => {
    if (i > 0 && t.offset !== expectedOffset) {
      const prev = tensors[i - 1];
      fail(
        `${describe(prev)} needs ${expectedOffset - prev.offset} bytes with padding, but the next tensor "${t.name}" ` +
          `starts ${t.offset - prev.offset} bytes after it: the shape or type does not match the data`,
      );
    }
    expectedOffset = t.offset + Math.ceil(t.byteLength / alignment) * alignment;
    const end = dataOffset + t.offset + t.byteLength;
    if (end > fileBytes) {
      fail(`${describe(t)} ends at byte ${end}, past the end of the ${fileBytes}-byte file (truncated file?)`);
    }
  });
}
