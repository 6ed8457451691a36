/**
 * A base model's token-embedding table and the text of each vocabulary token, read from its stored
 * files without loading the model: from a GGUF file, its header (with the vocabulary in its
 * metadata) and the `token_embd.weight` tensor only; from a Hugging Face folder, `tokenizer.json`
 * and the embedding tensor's byte range in its safetensors file (or shard). Quantized and 16-bit
 * tables are dequantized to float32. The files come as streams (a blob store has no range reads),
 * and each stream is closed as soon as the bytes needed have passed.
 */
import { f32FromBf16Bytes, f32FromF16Bytes, f32FromF32Bytes } from '../formats/half.js';
import { parseSafetensorsHeader, safetensorsHeaderLength } from '../formats/safetensors.js';
import { readGgufHeaderStream } from './gguf-header-stream.js';
import { dequantize } from './quant/index.js';

/** One stored file of a model, readable as a stream from its start. */
export interface ModelFileStream {
  /** Its name in the model (`model.gguf`, `tokenizer.json`, `model-00001-of-00002.safetensors`, …); errors name it. */
  readonly path: string;
  readonly size: number;
  open(): Promise<AsyncIterable<Uint8Array> & { destroy(): void }>;
}

export interface TokenEmbeddingTable {
  readonly vocabSize: number;
  readonly dim: number;
  /** row-major [vocabSize, dim] */
  readonly rows: Float32Array;
  /** the text of each token id, as the tokenizer stores it (SentencePiece's ▁, byte-level BPE's Ġ kept) */
  readonly tokens: readonly string[];
}

/** HF names of the input embedding, by family layout (multimodal Gemma 3 nests the language model). */
const HF_EMBEDDING_NAMES = [
  'model.embed_tokens.weight',
  'transformer.wte.weight',
  'model.language_model.embed_tokens.weight',
  'language_model.model.embed_tokens.weight',
];

export async function readTokenEmbedding(files: readonly ModelFileStream[]): Promise<TokenEmbeddingTable> {
  const gguf = files.find((f) => f.path.endsWith('.gguf'));
  if (gguf !== undefined) return readGgufTokenEmbedding(gguf);
  return readHfTokenEmbedding(files);
}

async function readGgufTokenEmbedding(file: ModelFileStream): Promise<TokenEmbeddingTable> {
  const { header } = await readGgufHeaderStream(await file.open(), file.size, file.path);
  const tensor = header.tensors.find((t) => t.name === 'token_embd.weight');
  if (tensor === undefined) throw new Error(`${file.path}: no token_embd.weight tensor`);
  const [dim, vocabSize] = tensor.dims as [number, number];
  const tokensValue = header.metadata.get('tokenizer.ggml.tokens');
  if (tokensValue?.type !== 'array' || tokensValue.itemType !== 'string')
    throw new Error(`${file.path}: metadata tokenizer.ggml.tokens is missing or not an array of strings`);
  const tokens = tokensValue.items.map((item) => (item.type === 'string' ? item.value : ''));
  const bytes = await readRange(file, header.dataOffset + tensor.offset, tensor.byteLength);
  return table(file.path, dequantize(tensor.stored, bytes, dim * vocabSize), vocabSize, dim, tokens);
}

async function readHfTokenEmbedding(files: readonly ModelFileStream[]): Promise<TokenEmbeddingTable> {
  const byPath = new Map(files.map((f) => [f.path, f]));
  const tokenizerFile = byPath.get('tokenizer.json');
  if (tokenizerFile === undefined) throw new Error('model folder: no tokenizer.json (needed for the vocabulary)');
  const tokenizer = parseJson(await readRange(tokenizerFile, 0, tokenizerFile.size), 'tokenizer.json');

  const index = byPath.get('model.safetensors.index.json');
  let weightFile = byPath.get('model.safetensors');
  let name: string | undefined;
  if (index !== undefined) {
    const weightMap = (parseJson(await readRange(index, 0, index.size), index.path) as { weight_map?: Record<string, unknown> }).weight_map;
    name = HF_EMBEDDING_NAMES.find((n) => typeof weightMap?.[n] === 'string');
    if (name !== undefined) weightFile = byPath.get(weightMap![name] as string);
  }
  if (weightFile === undefined) throw new Error('model folder: no safetensors file holds the token embedding');
  const lengthBytes = await readRange(weightFile, 0, 8);
  const headerLength = safetensorsHeaderLength(lengthBytes, weightFile.size, weightFile.path);
  const header = parseSafetensorsHeader(await readRange(weightFile, 8, headerLength), weightFile.size - 8 - headerLength, weightFile.path);
  name ??= HF_EMBEDDING_NAMES.find((n) => header.tensors[n] !== undefined);
  const entry = name === undefined ? undefined : header.tensors[name];
  if (name === undefined || entry === undefined)
    throw new Error(`${weightFile.path}: no token embedding tensor (looked for ${HF_EMBEDDING_NAMES.join(', ')})`);
  if (entry.shape.length !== 2) throw new Error(`${weightFile.path}: ${name} has shape [${entry.shape.join(', ')}], not [vocab, dim]`);
  const [vocabSize, dim] = entry.shape as [number, number];
  const bytes = await readRange(weightFile, header.dataStart + entry.begin, entry.end - entry.begin);
  const rows =
    entry.dtype === 'F32'
      ? f32FromF32Bytes(bytes)
      : entry.dtype === 'F16'
        ? f32FromF16Bytes(bytes)
        : entry.dtype === 'BF16'
          ? f32FromBf16Bytes(bytes)
          : undefined;
  if (rows === undefined) throw new Error(`${weightFile.path}: ${name} is ${entry.dtype}; token embeddings are read from F32, F16 or BF16`);
  return table(weightFile.path, rows, vocabSize, dim, hfVocabulary(tokenizer, vocabSize));
}

/** Token texts by id from tokenizer.json: model.vocab (an object for BPE/WordPiece, [piece, score] pairs for Unigram) and added_tokens. */
function hfVocabulary(tokenizer: unknown, vocabSize: number): string[] {
  const tokens: string[] = Array.from({ length: vocabSize }, (_, id) => `<id ${id}>`);
  const json = tokenizer as { model?: { vocab?: unknown }; added_tokens?: { id?: unknown; content?: unknown }[] };
  const put = (id: unknown, text: unknown): void => {
    if (Number.isInteger(id) && (id as number) >= 0 && (id as number) < vocabSize && typeof text === 'string') tokens[id as number] = text;
  };
  const vocab = json.model?.vocab;
  if (Array.isArray(vocab)) vocab.forEach((pair, id) => put(id, Array.isArray(pair) ? pair[0] : undefined));
  else if (typeof vocab === 'object' && vocab !== null) for (const [text, id] of Object.entries(vocab)) put(id, text);
  else throw new Error('tokenizer.json: model.vocab is missing');
  for (const added of json.added_tokens ?? []) put(added.id, added.content);
  return tokens;
}

function table(source: string, rows: Float32Array, vocabSize: number, dim: number, tokens: string[]): TokenEmbeddingTable {
  if (rows.length !== vocabSize * dim) throw new Error(`${source}: token embedding holds ${rows.length} values, not ${vocabSize} × ${dim}`);
  if (tokens.length < vocabSize) tokens.push(...Array.from({ length: vocabSize - tokens.length }, (_, i) => `<id ${tokens.length + i}>`));
  return { vocabSize, dim, rows, tokens: tokens.slice(0, vocabSize) };
}

function parseJson(bytes: Uint8Array, source: string): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (err) {
    throw new Error(`${source}: not UTF-8 JSON (${(err as Error).message})`, { cause: err });
  }
}

/** Bytes [start, start + length) of a file read from its stream, which is closed once they have passed. */
async function readRange(file: ModelFileStream, start: number, length: number): Promise<Uint8Array> {
  if (start < 0 || length < 0 || start + length > file.size)
    throw new Error(`${file.path}: bytes ${start}..${start + length} lie outside its ${file.size} bytes`);
  const out = new Uint8Array(length);
  if (length === 0) return out;
  const stream = await file.open();
  let at = 0;
  let filled = 0;
  try {
    for await (const chunk of stream) {
      const from = Math.max(start - at, 0);
      const to = Math.min(start + length - at, chunk.byteLength);
      if (to > from) {
        out.set(chunk.subarray(from, to), at + from - start);
        filled += to - from;
      }
      at += chunk.byteLength;
      if (filled === length) return out;
    }
  } finally {
    stream.destroy();
  }
  throw new Error(`${file.path}: ended after ${at} bytes, before byte ${start + length}`);
}

export interface NearestToken {
  readonly id: number;
  readonly text: string;
  readonly cosine: number;
}

/**
 * For each row of `vectors` ([count, table.dim]), the k vocabulary tokens whose embeddings have the
 * highest cosine similarity with it, best first (Lester et al.'s reading of a trained prompt).
 */
export function nearestTokens(table: TokenEmbeddingTable, vectors: Float32Array, k: number): NearestToken[][] {
  const { dim, vocabSize, rows } = table;
  if (vectors.length % dim !== 0) throw new Error(`${vectors.length} values are not whole rows of the model's width ${dim}`);
  const norms = new Float64Array(vocabSize);
  for (let t = 0; t < vocabSize; t++) {
    let s = 0;
    for (let j = 0, o = t * dim; j < dim; j++) s += rows[o + j]! * rows[o + j]!;
    norms[t] = Math.sqrt(s);
  }
  const result: NearestToken[][] = [];
  for (let r = 0; r < vectors.length / dim; r++) {
    const v = vectors.subarray(r * dim, (r + 1) * dim);
    let vn = 0;
    for (let j = 0; j < dim; j++) vn += v[j]! * v[j]!;
    vn = Math.sqrt(vn);
    const best: NearestToken[] = [];
    for (let t = 0; t < vocabSize; t++) {
      let dot = 0;
      for (let j = 0, o = t * dim; j < dim; j++) dot += v[j]! * rows[o + j]!;
      const denominator = vn * norms[t]!;
      const cosine = denominator === 0 ? 0 : dot / denominator;
      if (best.length < k || cosine > best[best.length - 1]!.cosine) {
        best.push({ id: t, text: table.tokens[t]!, cosine });
        best.sort((a, b) => b.cosine - a.cosine);
        if (best.length > k) best.pop();
      }
    }
    result.push(best);
  }
  return result;
}
