/**
 * Checks a Hugging Face checkpoint folder without reading its weights: the file listing, config.json,
 * tokenizer.json, the shard index and every safetensors header (dtypes, shapes, offsets against the
 * file's size). Every refusal names the file and the field.
 */
import { open, readFile, stat } from 'node:fs/promises';
import path from 'node:path';

const CONFIG = 'config.json';
const TOKENIZER = 'tokenizer.json';
const SINGLE_WEIGHTS = 'model.safetensors';
const SHARD_INDEX = 'model.safetensors.index.json';
const OPTIONAL_JSON = ['tokenizer_config.json', 'generation_config.json', 'special_tokens_map.json'];
const SHARD = /^[A-Za-z0-9][A-Za-z0-9._-]*\.safetensors$/;
/** JSON files are parsed whole; anything larger than this is not a config. */
const MAX_JSON_BYTES = 64 * 1024 * 1024;
const MAX_SAFETENSORS_HEADER_BYTES = 100 * 1024 * 1024;
const DTYPE_BYTES: Record<string, number> = { F32: 4, F16: 2, BF16: 2 };

export class ModelSourceError extends Error {
  constructor(
    readonly file: string,
    readonly field: string,
    message: string,
  ) {
    super(`${file}${field === '' ? '' : ` (${field})`}: ${message}`);
  }
}

export interface HfArchitecture {
  family: string;
  hiddenSize: number;
  numLayers: number;
  numAttentionHeads: number;
  numKeyValueHeads: number;
  vocabSize: number;
  contextLength: number;
}

export type HfTokenizerKind = 'sentencepiece' | 'byte_level_bpe';

interface HfFolder {
  architecture: HfArchitecture;
  tokenizerKind: HfTokenizerKind;
}

/**
 * Checks the names alone (before any byte is read, e.g. from an upload's header): the required files
 * are there and nothing else is. Shards must then be named by the index (checked by checkHfFolder).
 */
export function checkHfListing(names: readonly string[]): void {
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) throw new ModelSourceError(name, 'path', 'is listed twice');
    seen.add(name);
    const known = name === CONFIG || name === TOKENIZER || name === SHARD_INDEX || OPTIONAL_JSON.includes(name) || SHARD.test(name);
    if (!known) {
      throw new ModelSourceError(
        name,
        'path',
        `is not a file of a Hugging Face checkpoint folder ptune reads (${CONFIG}, ${TOKENIZER}, ${OPTIONAL_JSON.join(', ')}, ${SHARD_INDEX}, *.safetensors); remove it`,
      );
    }
  }
  for (const required of [CONFIG, TOKENIZER]) {
    if (!seen.has(required)) throw new ModelSourceError(required, '', 'is missing from the folder');
  }
  if (!seen.has(SHARD_INDEX) && !seen.has(SINGLE_WEIGHTS))
    throw new ModelSourceError(SINGLE_WEIGHTS, '', `is missing (or ${SHARD_INDEX} with its shards)`);
}

/** Checks the folder `dir` whose files are `names` (flat) and describes it. */
export async function checkHfFolder(dir: string, names: readonly string[]): Promise<HfFolder> {
  checkHfListing(names);
  const json = (name: string) => readJsonObject(path.join(dir, name), name);
  const config = await json(CONFIG);
  const architecture = architectureOf(config);
  const tokenizerKind = tokenizerKindOf(await json(TOKENIZER));
  for (const name of OPTIONAL_JSON) if (names.includes(name)) await json(name);

  const shards = names.filter((n) => SHARD.test(n));
  const tensors = new Map<string, { file: string; shape: number[] }>();
  for (const shard of shards) {
    for (const [tensor, shape] of await readSafetensorsHeader(path.join(dir, shard), shard)) tensors.set(tensor, { file: shard, shape });
  }
  if (names.includes(SHARD_INDEX)) checkIndex(await json(SHARD_INDEX), shards, tensors);
  else if (shards.length !== 1)
    throw new ModelSourceError(
      shards.find((s) => s !== SINGLE_WEIGHTS) ?? SINGLE_WEIGHTS,
      'path',
      `is not named by any ${SHARD_INDEX}; a folder without an index holds ${SINGLE_WEIGHTS} alone`,
    );
  checkEmbedding(tensors, architecture);
  return { architecture, tokenizerKind };
}

async function readJsonObject(file: string, name: string): Promise<Record<string, unknown>> {
  const size = (await stat(file)).size;
  if (size > MAX_JSON_BYTES)
    throw new ModelSourceError(name, '', `is ${size} bytes, above the ${MAX_JSON_BYTES}-byte limit for a JSON file`);
  let value: unknown;
  try {
    value = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new ModelSourceError(name, '', `is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ModelSourceError(name, '', 'must hold a JSON object');
  return value as Record<string, unknown>;
}

function architectureOf(config: Record<string, unknown>): HfArchitecture {
  const family = config.model_type;
  if (typeof family !== 'string' || family === '') throw new ModelSourceError(CONFIG, 'model_type', 'is required (e.g. "llama")');
  // GPT-2 style configs spell the shape n_embd / n_layer / n_head / n_positions.
  const int = (names: string[], fallback?: number): number => {
    const name = names.find((n) => config[n] !== undefined);
    const value = name === undefined ? fallback : config[name];
    if (value === undefined) throw new ModelSourceError(CONFIG, names[0], 'is required');
    if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0)
      throw new ModelSourceError(CONFIG, name ?? names[0], `must be a positive integer, got ${JSON.stringify(value)}`);
    return value;
  };
  const numAttentionHeads = int(['num_attention_heads', 'n_head']);
  const a: HfArchitecture = {
    family,
    hiddenSize: int(['hidden_size', 'n_embd']),
    numLayers: int(['num_hidden_layers', 'n_layer']),
    numAttentionHeads,
    numKeyValueHeads: int(['num_key_value_heads'], numAttentionHeads),
    vocabSize: int(['vocab_size']),
    contextLength: int(['max_position_embeddings', 'n_positions']),
  };
  if (a.hiddenSize % a.numAttentionHeads !== 0)
    throw new ModelSourceError(CONFIG, 'hidden_size', `${a.hiddenSize} is not a multiple of num_attention_heads ${a.numAttentionHeads}`);
  if (a.numAttentionHeads % a.numKeyValueHeads !== 0)
    throw new ModelSourceError(
      CONFIG,
      'num_key_value_heads',
      `${a.numKeyValueHeads} does not divide num_attention_heads ${a.numAttentionHeads}`,
    );
  return a;
}

/** Byte-level BPE when the pre-tokenizer or decoder is ByteLevel; SentencePiece-style BPE/Unigram otherwise. */
function tokenizerKindOf(tokenizer: Record<string, unknown>): HfTokenizerKind {
  const model = tokenizer.model as { type?: unknown } | undefined;
  const type = model?.type;
  if (type !== 'BPE' && type !== 'Unigram')
    throw new ModelSourceError(TOKENIZER, 'model.type', `${JSON.stringify(type)} is not a tokenizer model ptune reads (BPE or Unigram)`);
  const mentionsByteLevel = (part: unknown): boolean => JSON.stringify(part ?? null).includes('"ByteLevel"');
  return type === 'BPE' && (mentionsByteLevel(tokenizer.pre_tokenizer) || mentionsByteLevel(tokenizer.decoder))
    ? 'byte_level_bpe'
    : 'sentencepiece';
}

/** Reads only the JSON header of a safetensors file and checks every tensor's extent against the file. */
async function readSafetensorsHeader(file: string, name: string): Promise<Map<string, number[]>> {
  const size = (await stat(file)).size;
  const handle = await open(file, 'r');
  try {
    if (size < 8) throw new ModelSourceError(name, 'header', `is ${size} bytes, too short for a safetensors file`);
    const prefix = Buffer.alloc(8);
    await handle.read(prefix, 0, 8, 0);
    const headerBytes = Number(prefix.readBigUInt64LE(0));
    if (headerBytes > MAX_SAFETENSORS_HEADER_BYTES || 8 + headerBytes > size) {
      throw new ModelSourceError(
        name,
        'header',
        `declares a ${headerBytes}-byte header in a ${size}-byte file (truncated or not safetensors)`,
      );
    }
    const text = Buffer.alloc(headerBytes);
    await handle.read(text, 0, headerBytes, 8);
    let header: unknown;
    try {
      header = JSON.parse(text.toString('utf8'));
    } catch (err) {
      throw new ModelSourceError(name, 'header', `is not valid JSON: ${(err as Error).message}`);
    }
    if (typeof header !== 'object' || header === null || Array.isArray(header))
      throw new ModelSourceError(name, 'header', 'must be a JSON object');
    const dataBytes = size - 8 - headerBytes;
    const shapes = new Map<string, number[]>();
    const extents: [number, number, string][] = [];
    for (const [tensor, entry] of Object.entries(header as Record<string, unknown>)) {
      if (tensor === '__metadata__') continue;
      const { dtype, shape, data_offsets: offsets } = (entry ?? {}) as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
      const field = `tensor "${tensor}"`;
      if (typeof dtype !== 'string' || DTYPE_BYTES[dtype] === undefined)
        throw new ModelSourceError(name, field, `dtype ${JSON.stringify(dtype)} is not one ptune reads (F32, F16, BF16)`);
      if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0))
        throw new ModelSourceError(name, field, 'shape must be a list of non-negative integers');
      if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isInteger(o) && o >= 0))
        throw new ModelSourceError(name, field, 'data_offsets must be [begin, end]');
      const [begin, end] = offsets as [number, number];
      const expected = (shape as number[]).reduce((a, b) => a * b, 1) * DTYPE_BYTES[dtype];
      if (end - begin !== expected)
        throw new ModelSourceError(
          name,
          field,
          `data_offsets [${begin}, ${end}] hold ${end - begin} bytes but ${dtype} ${JSON.stringify(shape)} needs ${expected}`,
        );
      if (end > dataBytes)
        throw new ModelSourceError(name, field, `data_offsets end at ${end}, past the ${dataBytes} data bytes of the file (truncated?)`);
      shapes.set(tensor, shape as number[]);
      extents.push([begin, end, tensor]);
    }
    extents.sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < extents.length; i++) {
      if (extents[i][0] < extents[i - 1][1])
        throw new ModelSourceError(name, `tensor "${extents[i][2]}"`, `overlaps tensor "${extents[i - 1][2]}"`);
    }
    return shapes;
  } finally {
    await handle.close();
  }
}

function checkIndex(index: Record<string, unknown>, shards: string[], tensors: Map<string, { file: string }>): void {
  const map = index.weight_map;
  if (typeof map !== 'object' || map === null || Array.isArray(map))
    throw new ModelSourceError(SHARD_INDEX, 'weight_map', 'must be an object of tensor name → shard file');
  const named = new Set<string>();
  for (const [tensor, shard] of Object.entries(map as Record<string, unknown>)) {
    if (typeof shard !== 'string') throw new ModelSourceError(SHARD_INDEX, `weight_map."${tensor}"`, 'must name a shard file');
    if (!shards.includes(shard))
      throw new ModelSourceError(SHARD_INDEX, `weight_map."${tensor}"`, `names shard ${shard}, which is not in the folder`);
    named.add(shard);
    const found = tensors.get(tensor);
    if (found?.file !== shard) throw new ModelSourceError(shard, `tensor "${tensor}"`, `is missing, though ${SHARD_INDEX} places it there`);
  }
  for (const shard of shards) if (!named.has(shard)) throw new ModelSourceError(shard, 'path', `is not named by ${SHARD_INDEX}; remove it`);
  for (const [tensor, { file }] of tensors) {
    if ((map as Record<string, unknown>)[tensor] === undefined)
      throw new ModelSourceError(file, `tensor "${tensor}"`, `is not listed in ${SHARD_INDEX} weight_map`);
  }
}

/** The token embedding, whatever the family calls it, must be [vocab_size, hidden_size]. */
function checkEmbedding(tensors: Map<string, { file: string; shape: number[] }>, a: HfArchitecture): void {
  for (const [tensor, { file, shape }] of tensors) {
    if (!/(^|\.)(embed_tokens|wte)\.weight$/.test(tensor)) continue;
    if (shape.length !== 2 || shape[0] !== a.vocabSize || shape[1] !== a.hiddenSize) {
      throw new ModelSourceError(
        file,
        `tensor "${tensor}"`,
        `has shape [${shape.join(', ')}] but ${CONFIG} says vocab_size ${a.vocabSize} × hidden_size ${a.hiddenSize}`,
      );
    }
  }
}
