/** Serializes a GGUF v3 file (little-endian) from metadata and raw tensor bytes. */
import { GGUF_DEFAULT_ALIGNMENT, GGUF_MAGIC, GgufValueCode, type GgufValue } from './gguf-types.js';

export interface GgufTensorToWrite {
  name: string;
  /** GGUF order: fastest-varying axis first */
  dims: number[];
  typeCode: number;
  data: Uint8Array;
}

class Writer {
  private chunks: Uint8Array[] = [];
  length = 0;
  push(bytes: Uint8Array): void {
    this.chunks.push(bytes);
    this.length += bytes.length;
  }
  private scalar(size: number, set: (v: DataView) => void): void {
    const b = new Uint8Array(size);
    set(new DataView(b.buffer));
    this.push(b);
  }
  u32(v: number): void {
    this.scalar(4, (d) => d.setUint32(0, v, true));
  }
  u64(v: number | bigint): void {
    this.scalar(8, (d) => d.setBigUint64(0, BigInt(v), true));
  }
  string(s: string): void {
    const b = new TextEncoder().encode(s);
    this.u64(b.length);
    this.push(b);
  }
  value(v: GgufValue): void {
    switch (v.type) {
      case 'u8':
        this.scalar(1, (d) => d.setUint8(0, v.value));
        break;
      case 'i8':
        this.scalar(1, (d) => d.setInt8(0, v.value));
        break;
      case 'u16':
        this.scalar(2, (d) => d.setUint16(0, v.value, true));
        break;
      case 'i16':
        this.scalar(2, (d) => d.setInt16(0, v.value, true));
        break;
      case 'u32':
        this.u32(v.value);
        break;
      case 'i32':
        this.scalar(4, (d) => d.setInt32(0, v.value, true));
        break;
      case 'f32':
        this.scalar(4, (d) => d.setFloat32(0, v.value, true));
        break;
      case 'f64':
        this.scalar(8, (d) => d.setFloat64(0, v.value, true));
        break;
      case 'u64':
        this.u64(v.value);
        break;
      case 'i64':
        this.scalar(8, (d) => d.setBigInt64(0, v.value, true));
        break;
      case 'bool':
        this.scalar(1, (d) => d.setUint8(0, v.value ? 1 : 0));
        break;
      case 'string':
        this.string(v.value);
        break;
      case 'array':
        this.u32(GgufValueCode[v.itemType]);
        this.u64(v.items.length);
        for (const item of v.items) {
          if (item.type !== v.itemType) throw new Error(`GGUF array of ${v.itemType} holds a ${item.type}`);
          this.value(item);
        }
        break;
    }
  }
  pad(alignment: number): void {
    const rest = this.length % alignment;
    if (rest !== 0) this.push(new Uint8Array(alignment - rest));
  }
  concat(): Uint8Array {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}

export function serializeGguf(metadata: Map<string, GgufValue>, tensors: GgufTensorToWrite[]): Uint8Array {
  const alignment = GGUF_DEFAULT_ALIGNMENT;
  if (metadata.has('general.alignment')) throw new Error('serializeGguf writes the default alignment; remove general.alignment');
  const w = new Writer();
  w.u32(GGUF_MAGIC);
  w.u32(3);
  w.u64(tensors.length);
  w.u64(metadata.size);
  for (const [key, value] of metadata) {
    w.string(key);
    w.u32(GgufValueCode[value.type]);
    w.value(value);
  }
  let offset = 0;
  for (const t of tensors) {
    w.string(t.name);
    w.u32(t.dims.length);
    for (const d of t.dims) w.u64(d);
    w.u32(t.typeCode);
    w.u64(offset);
    offset += Math.ceil(t.data.length / alignment) * alignment;
  }
  w.pad(alignment);
  for (const t of tensors) {
    w.push(t.data);
    w.pad(alignment);
  }
  return w.concat();
}
