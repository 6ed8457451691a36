/**
 * The safetensors files of a Hugging Face folder, read lazily: one `model.safetensors`, or the
 * shards `model.safetensors.index.json` names. Headers are read and checked strictly at open
 * (every shard the index names exists, each tensor lives where the index says, no tensor twice);
 * tensor bytes are read one tensor at a time from its byte range, never a whole shard.
 */
import { open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

import { f32FromBf16Bytes, f32FromF16Bytes } from '../../formats/half.js';
import { parseSafetensorsHeader, safetensorsHeaderLength, type TensorEntry } from '../../formats/safetensors.js';
import { readRange } from '../read-range.js';

export interface StoredHfTensor extends TensorEntry {
  /** file name inside the folder */
  file: string;
  /** absolute byte offset of the tensor in its file */
  offset: number;
}

export interface SafetensorsFolder {
  /** the weight files read (single file or shards) */
  files: string[];
  tensors: Map<string, StoredHfTensor>;
  /** float32 copy of a stored F32/F16/BF16 tensor */
  readF32(name: string): Promise<Float32Array>;
  /** a stored F32/F16/BF16 tensor as it is stored: float32 values or raw 16-bit words */
  readStored(name: string): Promise<HfStoredValues>;
}

export type HfStoredValues = { dtype: 'f32'; data: Float32Array } | { dtype: 'f16' | 'bf16'; data: Uint16Array };

export const INDEX_FILE = 'model.safetensors.index.json';
export const SINGLE_FILE = 'model.safetensors';

async function readHeader(dir: string, file: string): Promise<{ entries: Record<string, TensorEntry>; dataStart: number }> {
  const path = join(dir, file);
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch {
    throw new Error(`${path}: weight file is missing`);
  }
  const handle = await open(path, 'r');
  try {
    const first8 = new Uint8Array(8);
    await handle.read(first8, 0, 8, 0);
    const headerLength = safetensorsHeaderLength(first8, size, path);
    const header = new Uint8Array(headerLength);
    await handle.read(header, 0, headerLength, 8);
    const parsed = parseSafetensorsHeader(header, size - 8 - headerLength, path);
    return { entries: parsed.tensors, dataStart: parsed.dataStart };
  } finally {
    await handle.close();
  }
}

/** the index's weight_map, checked: every value a .safetensors file name in the folder */
async function readIndex(dir: string): Promise<Map<string, string>> {
  const path = join(dir, INDEX_FILE);
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw new Error(`${path}: not readable JSON (${(e as Error).message})`, { cause: e });
  }
  const map = (json as { weight_map?: unknown })?.weight_map;
  if (typeof map !== 'object' || map === null || Array.isArray(map)) throw new Error(`${path}: weight_map must be an object`);
  const out = new Map<string, string>();
  for (const [tensor, file] of Object.entries(map as Record<string, unknown>)) {
    if (typeof file !== 'string' || !/^[^/\\]+\.safetensors$/.test(file))
      throw new Error(`${path}: weight_map."${tensor}" must name a .safetensors file in the folder (got ${JSON.stringify(file)})`);
    out.set(tensor, file);
  }
  if (out.size === 0) throw new Error(`${path}: weight_map is empty`);
  return out;
}

/** Opens the folder's weights; `hasIndex` says which layout the folder uses. */
export async function openSafetensorsFolder(dir: string, hasIndex: boolean): Promise<SafetensorsFolder> {
  const index = hasIndex ? await readIndex(dir) : undefined;
  const files = index ? [...new Set(index.values())].sort() : [SINGLE_FILE];
  const tensors = new Map<string, StoredHfTensor>();
  for (const file of files) {
    const { entries, dataStart } = await readHeader(dir, file);
    for (const [name, entry] of Object.entries(entries)) {
      const where = join(dir, file);
      if (tensors.has(name)) throw new Error(`${where}: tensor "${name}" is also in ${tensors.get(name)?.file}`);
      if (index && index.get(name) !== file) {
        throw new Error(
          `${where}: tensor "${name}" is here but ${INDEX_FILE} ${index.has(name) ? `puts it in ${index.get(name)}` : 'does not list it'}`,
        );
      }
      tensors.set(name, { ...entry, file, offset: dataStart + entry.begin });
    }
  }
  if (index) {
    for (const [name, file] of index) {
      if (!tensors.has(name))
        throw new Error(`${join(dir, INDEX_FILE)}: tensor "${name}" is listed in ${file} but that file does not hold it`);
    }
  }
  /** a tensor's bytes, read from its byte range alone */
  const readBytes = async (t: StoredHfTensor, name: string): Promise<Uint8Array> => {
    const handle = await open(join(dir, t.file), 'r');
    try {
      return await readRange(handle, t.offset, t.end - t.begin, `${join(dir, t.file)}: tensor "${name}"`);
    } finally {
      await handle.close();
    }
  };
  const tensorOf = (name: string): StoredHfTensor => {
    const t = tensors.get(name);
    if (!t) throw new Error(`${dir}: no tensor "${name}"`);
    return t;
  };
  const unsupported = (t: StoredHfTensor, name: string): Error =>
    new Error(`${join(dir, t.file)}: tensor "${name}" has dtype ${t.dtype} (supported: F32, F16, BF16)`);
  return {
    files,
    tensors,
    async readF32(name: string): Promise<Float32Array> {
      const t = tensorOf(name);
      const bytes = await readBytes(t, name); // a fresh buffer: aligned for any element size
      switch (t.dtype) {
        case 'F32':
          return new Float32Array(bytes.buffer, 0, bytes.byteLength / 4);
        case 'F16':
          return f32FromF16Bytes(bytes);
        case 'BF16':
          return f32FromBf16Bytes(bytes);
        default:
          throw unsupported(t, name);
      }
    },
    async readStored(name: string): Promise<HfStoredValues> {
      const t = tensorOf(name);
      if (t.dtype !== 'F32' && t.dtype !== 'F16' && t.dtype !== 'BF16') throw unsupported(t, name);
      const bytes = await readBytes(t, name);
      if (t.dtype === 'F32') return { dtype: 'f32', data: new Float32Array(bytes.buffer, 0, bytes.byteLength / 4) };
      return { dtype: t.dtype === 'F16' ? 'f16' : 'bf16', data: new Uint16Array(bytes.buffer, 0, bytes.byteLength / 2) };
    },
  };
}
