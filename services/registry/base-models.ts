import { createReadStream } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import type { MessageInitShape } from '@bufbuild/protobuf';
import {
  TokenizerKind,
  WeightsFormat,
  type BaseModelSchema,
  type ListBaseModelsRequest,
  type ModelArchitecture,
  type RegisterBaseModelHeader,
} from '../gen/ptune/v1/registry_pb.js';
import { contentKey, isSha256Hex, type BaseModel, type BaseModelFile, type BlobStore, type PrismaClient } from '../storage/index.js';
import {
  alreadyExists,
  checkModelName,
  decodePageToken,
  formatFromDb,
  formatToDb,
  invalidArgument,
  isUniqueViolation,
  notFound,
  pageSize,
  paginate,
  stringKey,
  tokenizerFromDb,
  tokenizerToDb,
} from '../domain/index.js';
import {
  checkHfListing,
  describeModelSource,
  folderManifest,
  manifestFingerprint,
  ModelSourceError,
  type ModelSourceDescription,
} from './model-files.js';
import { stageFiles, type StagedFile } from './stage-files.js';

/** A BaseModel message as built from its row (the registry's and the worker protocol's one codec). */
export type BaseModelInit = MessageInitShape<typeof BaseModelSchema>;
type BaseModelMessage = BaseModelInit;
type BaseModelWithFiles = BaseModel & { files: BaseModelFile[] };

/** Every read of a base model row for the wire includes its files. */
export const withFiles = { files: { orderBy: { path: 'asc' } } } as const;

export function toBaseModel(row: BaseModelWithFiles): BaseModelMessage {
  return {
    name: row.name,
    fingerprintSha256: row.fingerprint.trim(),
    architecture: {
      family: row.family,
      hiddenSize: row.hiddenSize,
      numLayers: row.numLayers,
      numAttentionHeads: row.numHeads,
      numKeyValueHeads: row.numKvHeads,
      vocabSize: row.vocabSize,
      contextLength: row.contextLength,
      headDim: row.headDim,
    },
    tokenizerKind: tokenizerFromDb(row.tokenizerKind),
    weightsFormat: formatFromDb(row.weightsFormat),
    weightsBlobKey: row.weightsBlobKey,
    weightsSizeBytes: BigInt(row.weightsSizeBytes),
    createdBy: row.createdBy,
    createdAt: timestampFromDate(row.createdAt),
    files: row.files.map((f) => ({ path: f.path, sha256: f.sha256.trim(), sizeBytes: BigInt(f.sizeBytes), blobKey: f.blobKey })),
  };
}

const GGUF_MAGIC = [0x47, 0x47, 0x55, 0x46]; // "GGUF"
/** The name a single-file model's one file is listed under. */
const GGUF_FILE = 'model.gguf';

interface Described {
  architecture: Omit<ModelArchitecture, '$typeName'>;
  tokenizerKind: TokenizerKind;
  format: WeightsFormat;
}

/** Checks the header before any weights byte is read; returns the size of the chunks that follow. */
export function checkModelHeader(header: RegisterBaseModelHeader | undefined): number {
  if (header === undefined) throw invalidArgument('header', 'the first message must be the header');
  checkModelName(header.name, 'header.name');
  if (header.expectedSha256 !== '' && !isSha256Hex(header.expectedSha256))
    throw invalidArgument('header.expected_sha256', 'must be 64 lowercase hex digits');
  if (header.weightsBlobKey !== '' && header.sizeBytes !== 0n)
    throw invalidArgument('header.size_bytes', 'must be 0 when weights_blob_key names stored weights');
  if (header.weightsBlobKey === '' && header.sizeBytes === 0n)
    throw invalidArgument('header.size_bytes', 'is required: the size of the weights file that follows');
  if (header.files.length > 0) checkFolderHeader(header);
  return Number(header.sizeBytes);
}

function checkFolderHeader(header: RegisterBaseModelHeader): void {
  if (header.weightsFormat !== WeightsFormat.UNSPECIFIED && header.weightsFormat !== WeightsFormat.HF_FOLDER)
    throw invalidArgument('header.weights_format', 'must be HF_FOLDER (or unset) when files are listed');
  if (header.weightsBlobKey !== '')
    throw invalidArgument('header.weights_blob_key', 'must be empty when files are listed (their bytes follow as chunks)');
  header.files.forEach((f, i) => {
    if (f.sha256 !== '' && !isSha256Hex(f.sha256))
      throw invalidArgument(`header.files[${i}].sha256`, 'must be 64 lowercase hex digits or empty');
  });
  try {
    checkHfListing(header.files.map((f) => f.path));
  } catch (err) {
    if (err instanceof ModelSourceError) throw invalidArgument('header.files', err.message);
    throw err;
  }
  const total = header.files.reduce((sum, f) => sum + f.sizeBytes, 0n);
  if (total !== header.sizeBytes)
    throw invalidArgument('header.size_bytes', `is ${header.sizeBytes} but the listed files add up to ${total} bytes`);
}

type Stores = { prisma: PrismaClient; blobs: BlobStore };

/**
 * Registers a model from its upload: the bytes (or the stored weights the header names) are staged
 * in a private folder on local disk, hashed and checked there (a GGUF file is loaded; a folder's
 * config, tokenizer, index and safetensors headers are checked); only then does each file go to the
 * blob store (streamed, verified) and one transaction add the row with its files. A refused model
 * leaves nothing behind.
 */
export async function registerBaseModel(
  stores: Stores,
  header: RegisterBaseModelHeader,
  chunks: AsyncIterable<Uint8Array>,
): Promise<{ baseModel: BaseModelMessage; created: boolean }> {
  const staging = await mkdtemp(path.join(os.tmpdir(), 'ptune-model-'));
  try {
    const isFolder = header.files.length > 0;
    const layout = isFolder
      ? header.files.map((f) => ({ path: f.path, sizeBytes: Number(f.sizeBytes) }))
      : [{ path: GGUF_FILE, sizeBytes: Number(header.sizeBytes) }];
    if (header.weightsBlobKey !== '') {
      for await (const chunk of chunks)
        throw invalidArgument('chunk', `no chunk may follow a header that names weights_blob_key (got ${chunk.byteLength} bytes)`);
    }
    const body = header.weightsBlobKey === '' ? chunks : await storedWeights(stores.blobs, header.weightsBlobKey, layout);
    const files = await stageFiles(staging, layout, body);
    if (isFolder) checkFileHashes(header, files);
    const manifest = isFolder ? folderManifest(files) : undefined;
    const fingerprint = manifest === undefined ? files[0].sha256 : manifestFingerprint(manifest);
    if (header.expectedSha256 !== '' && header.expectedSha256 !== fingerprint) {
      throw invalidArgument(
        'header.expected_sha256',
        `the uploaded ${isFolder ? 'folder' : 'bytes'} hash to ${fingerprint}, not ${header.expectedSha256}`,
      );
    }
    const described = isFolder ? await describeFolder(staging) : await describeFile(header, path.join(staging, GGUF_FILE));
    const existing = await stores.prisma.baseModel.findFirst({
      where: { OR: [{ name: header.name }, { fingerprint }] },
      include: withFiles,
    });
    if (existing !== null) return { baseModel: sameOrConflict(existing, header.name, fingerprint), created: false };
    return await storeModel(stores, header, { staging, files, manifest, fingerprint, described });
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

function checkFileHashes(header: RegisterBaseModelHeader, files: StagedFile[]): void {
  header.files.forEach((f, i) => {
    if (f.sha256 !== '' && f.sha256 !== files[i].sha256)
      throw invalidArgument(`header.files[${i}].sha256`, `${f.path} hashes to ${files[i].sha256}, not ${f.sha256}`);
  });
}

async function describeFolder(dir: string): Promise<Described> {
  try {
    const d = await describeModelSource(dir);
    return { architecture: d.architecture, tokenizerKind: tokenizerKindOf(d.tokenizerKind), format: WeightsFormat.HF_FOLDER };
  } catch (err) {
    if (err instanceof ModelSourceError) throw invalidArgument(`files["${err.file}"]`, err.message);
    throw err;
  }
}

const tokenizerKindOf = (kind: ModelSourceDescription['tokenizerKind']): TokenizerKind =>
  kind === 'byte_level_bpe' ? TokenizerKind.BYTE_LEVEL_BPE : TokenizerKind.SENTENCEPIECE;

interface Checked {
  staging: string;
  files: StagedFile[];
  manifest: string | undefined;
  fingerprint: string;
  described: Described;
}

async function storeModel(
  stores: Stores,
  header: RegisterBaseModelHeader,
  model: Checked,
): Promise<{ baseModel: BaseModelMessage; created: boolean }> {
  const { prisma, blobs } = stores;
  for (const file of model.files) {
    await blobs.put(contentKey('model', file.sha256), createReadStream(path.join(model.staging, file.path)), { sha256: file.sha256 });
  }
  const key = contentKey('model', model.fingerprint);
  if (model.manifest !== undefined) await blobs.put(key, Buffer.from(model.manifest, 'utf8'), { sha256: model.fingerprint });
  const a = model.described.architecture;
  try {
    const row = await prisma.baseModel.create({
      data: {
        name: header.name,
        fingerprint: model.fingerprint,
        family: a.family,
        hiddenSize: a.hiddenSize,
        numLayers: a.numLayers,
        numHeads: a.numAttentionHeads,
        numKvHeads: a.numKeyValueHeads,
        vocabSize: a.vocabSize,
        contextLength: a.contextLength,
        headDim: a.headDim,
        tokenizerKind: tokenizerToDb(model.described.tokenizerKind) ?? 'sentencepiece',
        weightsFormat: formatToDb(model.described.format) ?? 'gguf',
        weightsBlobKey: key,
        weightsSizeBytes: model.files.reduce((sum, f) => sum + BigInt(f.sizeBytes), 0n),
        createdBy: header.createdBy || 'anonymous',
        files: {
          create: model.files.map((f) => ({
            path: f.path,
            sha256: f.sha256,
            sizeBytes: BigInt(f.sizeBytes),
            blobKey: contentKey('model', f.sha256),
          })),
        },
      },
      include: withFiles,
    });
    return { baseModel: toBaseModel(row), created: true };
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
    const winner = await prisma.baseModel.findFirstOrThrow({
      where: { OR: [{ name: header.name }, { fingerprint: model.fingerprint }] },
      include: withFiles,
    });
    return { baseModel: sameOrConflict(winner, header.name, model.fingerprint), created: false };
  }
}

function sameOrConflict(row: BaseModelWithFiles, name: string, fingerprint: string): BaseModelMessage {
  if (row.name === name && row.fingerprint.trim() === fingerprint) return toBaseModel(row);
  if (row.name === name)
    throw alreadyExists(
      `base model "${name}" is already registered with other weights (sha256 ${row.fingerprint.trim()}); pick another name`,
    );
  throw alreadyExists(`these weights (sha256 ${fingerprint}) are already registered as "${row.name}"`);
}

/** A single file: GGUF is loaded and checked; other formats need the architecture in the header. */
async function describeFile(header: RegisterBaseModelHeader, file: string): Promise<Described> {
  const magic = Buffer.alloc(4);
  const handle = await open(file, 'r');
  await handle.read(magic, 0, 4, 0).finally(() => handle.close());
  const isGguf = GGUF_MAGIC.every((b, i) => magic[i] === b);
  const format =
    header.weightsFormat === WeightsFormat.UNSPECIFIED ? (isGguf ? WeightsFormat.GGUF : WeightsFormat.UNSPECIFIED) : header.weightsFormat;
  if (format === WeightsFormat.UNSPECIFIED)
    throw invalidArgument(
      'header.weights_format',
      "the file is not GGUF; set weights_format (SAFETENSORS or ONNX) and architecture, or send a folder's files",
    );
  if (format === WeightsFormat.HF_FOLDER) throw invalidArgument('header.files', "list the folder's files for weights_format HF_FOLDER");
  if (format === WeightsFormat.GGUF) {
    if (!isGguf) throw invalidArgument('chunk', 'weights_format is GGUF but the file does not start with the GGUF magic');
    const fromFile = await ggufArchitecture(file, `weights of "${header.name}"`);
    if (header.architecture !== undefined) checkAgrees(header.architecture, fromFile.architecture);
    return fromFile;
  }
  if (header.architecture === undefined)
    throw invalidArgument('header.architecture', `is required for ${WeightsFormat[format]} weights (only GGUF files describe themselves)`);
  const a = header.architecture;
  for (const [field, value] of Object.entries({
    hidden_size: a.hiddenSize,
    num_layers: a.numLayers,
    num_attention_heads: a.numAttentionHeads,
    num_key_value_heads: a.numKeyValueHeads,
    vocab_size: a.vocabSize,
    context_length: a.contextLength,
  })) {
    if (value === 0) throw invalidArgument(`header.architecture.${field}`, 'must be > 0');
  }
  if (a.family === '') throw invalidArgument('header.architecture.family', 'is required, e.g. "llama"');
  if (a.hiddenSize % a.numAttentionHeads !== 0 || a.numAttentionHeads % a.numKeyValueHeads !== 0) {
    throw invalidArgument('header.architecture', 'hidden_size must be a multiple of num_attention_heads, and that of num_key_value_heads');
  }
  if (header.tokenizerKind === TokenizerKind.UNSPECIFIED)
    throw invalidArgument('header.tokenizer_kind', `is required for ${WeightsFormat[format]} weights`);
  return { architecture: { ...a, headDim: a.headDim || a.hiddenSize / a.numAttentionHeads }, tokenizerKind: header.tokenizerKind, format };
}

async function ggufArchitecture(file: string, label: string): Promise<Described> {
  try {
    const d = await describeModelSource(file, label);
    return { architecture: d.architecture, tokenizerKind: tokenizerKindOf(d.tokenizerKind), format: WeightsFormat.GGUF };
  } catch (err) {
    if (err instanceof ModelSourceError) throw invalidArgument('chunk', err.message);
    throw err;
  }
}

function checkAgrees(given: ModelArchitecture, file: Described['architecture']): void {
  const pairs: [string, unknown, unknown][] = [
    ['family', given.family, file.family],
    ['hidden_size', given.hiddenSize, file.hiddenSize],
    ['num_layers', given.numLayers, file.numLayers],
    ['num_attention_heads', given.numAttentionHeads, file.numAttentionHeads],
    ['num_key_value_heads', given.numKeyValueHeads, file.numKeyValueHeads],
    ['vocab_size', given.vocabSize, file.vocabSize],
    ['context_length', given.contextLength, file.contextLength],
    ...(given.headDim === 0 ? [] : [['head_dim', given.headDim, file.headDim] as [string, unknown, unknown]]),
  ];
  for (const [field, a, b] of pairs) {
    if (a !== b)
      throw invalidArgument(
        `header.architecture.${field}`,
        `is ${String(a)} but the GGUF file says ${String(b)}; leave architecture unset to take it from the file`,
      );
  }
}

/** Weights already in the blob store (header.weights_blob_key), streamed back; the store verifies them. */
async function storedWeights(
  blobs: BlobStore,
  key: string,
  layout: { path: string; sizeBytes: number }[],
): Promise<AsyncIterable<Uint8Array>> {
  if (!/^model\/[0-9a-f]{64}$/.test(key))
    throw invalidArgument('header.weights_blob_key', `${JSON.stringify(key)} is not a model blob key (model/<sha256>)`);
  if (!(await blobs.has(key)))
    throw notFound(`header.weights_blob_key: no blob ${key} in the blob store; upload the weights as chunks instead`);
  layout[0].sizeBytes = await blobs.size(key);
  return blobs.getStream(key);
}

export async function getBaseModel(prisma: PrismaClient, name: string): Promise<BaseModelMessage> {
  checkModelName(name, 'name');
  const row = await prisma.baseModel.findUnique({ where: { name }, include: withFiles });
  if (row === null) throw notFound(`no base model named "${name}"`);
  return toBaseModel(row);
}

export async function listBaseModels(
  prisma: PrismaClient,
  request: ListBaseModelsRequest,
): Promise<{ baseModels: BaseModelMessage[]; nextPageToken: string }> {
  const scope = 'base-models';
  const size = pageSize(request.pageSize);
  const after = decodePageToken(request.pageToken, scope, stringKey(1)) as [string] | undefined;
  const rows = await prisma.baseModel.findMany({
    where: after === undefined ? {} : { name: { gt: after[0] } },
    orderBy: { name: 'asc' },
    take: size + 1,
    include: withFiles,
  });
  const { page, nextPageToken } = paginate(rows, size, scope, (r) => [r.name]);
  return { baseModels: page.map(toBaseModel), nextPageToken };
}
