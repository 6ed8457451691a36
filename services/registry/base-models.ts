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
import { loadGgufBytes } from '../engine/index.js';
import { contentKey, isSha256Hex, type BaseModel, type BlobStore, type PrismaClient } from '../storage/index.js';
import { alreadyExists, checkModelName, decodePageToken, formatFromDb, formatToDb, invalidArgument, isUniqueViolation, notFound, pageSize, paginate, stringKey, tokenizerFromDb, tokenizerToDb } from '../domain/index.js';
import { sha256Hex } from './prompt-tensor.js';

type BaseModelMessage = MessageInitShape<typeof BaseModelSchema>;

export function toBaseModel(row: BaseModel): BaseModelMessage {
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
    },
    tokenizerKind: tokenizerFromDb(row.tokenizerKind),
    weightsFormat: formatFromDb(row.weightsFormat),
    weightsBlobKey: row.weightsBlobKey,
    weightsSizeBytes: BigInt(row.weightsSizeBytes),
    createdBy: row.createdBy,
    createdAt: timestampFromDate(row.createdAt),
  };
}

const GGUF_MAGIC = [0x47, 0x47, 0x55, 0x46]; // "GGUF"

interface Described {
  architecture: Omit<ModelArchitecture, '$typeName'>;
  tokenizerKind: TokenizerKind;
  format: WeightsFormat;
}

/** Checks the header before any weights byte is read. */
export function checkModelHeader(header: RegisterBaseModelHeader | undefined): RegisterBaseModelHeader {
  if (header === undefined) throw invalidArgument('header', 'the first message must be the header');
  checkModelName(header.name, 'header.name');
  if (header.expectedSha256 !== '' && !isSha256Hex(header.expectedSha256)) throw invalidArgument('header.expected_sha256', 'must be 64 lowercase hex digits');
  if (header.weightsBlobKey !== '' && header.sizeBytes !== 0n) throw invalidArgument('header.size_bytes', 'must be 0 when weights_blob_key names stored weights');
  if (header.weightsBlobKey === '' && header.sizeBytes === 0n) throw invalidArgument('header.size_bytes', 'is required: the size of the weights file that follows');
  return header;
}

/**
 * Registers a model from its weights file (already received in full and size-checked). GGUF files are
 * parsed and loaded (architecture, tokenizer and every tensor are checked); other formats need the
 * architecture in the header. The weights blob is written and verified before the row.
 */
export async function registerBaseModel(
  stores: { prisma: PrismaClient; blobs: BlobStore },
  header: RegisterBaseModelHeader,
  weights: Uint8Array,
): Promise<{ baseModel: BaseModelMessage; created: boolean }> {
  const fingerprint = sha256Hex(weights);
  if (header.expectedSha256 !== '' && header.expectedSha256 !== fingerprint) {
    throw invalidArgument('header.expected_sha256', `the uploaded bytes hash to ${fingerprint}, not ${header.expectedSha256}`);
  }
  const described = describeWeights(header, weights);
  const { prisma, blobs } = stores;
  const existing = await prisma.baseModel.findFirst({ where: { OR: [{ name: header.name }, { fingerprint }] } });
  if (existing !== null) return { baseModel: sameOrConflict(existing, header.name, fingerprint), created: false };

  const key = contentKey('model', fingerprint);
  await blobs.put(key, weights, { sha256: fingerprint });
  const a = described.architecture;
  try {
    const row = await prisma.baseModel.create({
      data: {
        name: header.name,
        fingerprint,
        family: a.family,
        hiddenSize: a.hiddenSize,
        numLayers: a.numLayers,
        numHeads: a.numAttentionHeads,
        numKvHeads: a.numKeyValueHeads,
        vocabSize: a.vocabSize,
        contextLength: a.contextLength,
        tokenizerKind: tokenizerToDb(described.tokenizerKind) ?? 'sentencepiece',
        weightsFormat: formatToDb(described.format) ?? 'gguf',
        weightsBlobKey: key,
        weightsSizeBytes: BigInt(weights.byteLength),
        createdBy: header.createdBy || 'anonymous',
      },
    });
    return { baseModel: toBaseModel(row), created: true };
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
    const winner = await prisma.baseModel.findFirstOrThrow({ where: { OR: [{ name: header.name }, { fingerprint }] } });
    return { baseModel: sameOrConflict(winner, header.name, fingerprint), created: false };
  }
}

function sameOrConflict(row: BaseModel, name: string, fingerprint: string): BaseModelMessage {
  if (row.name === name && row.fingerprint.trim() === fingerprint) return toBaseModel(row);
  if (row.name === name) throw alreadyExists(`base model "${name}" is already registered with other weights (sha256 ${row.fingerprint.trim()}); pick another name`);
  throw alreadyExists(`these weights (sha256 ${fingerprint}) are already registered as "${row.name}"`);
}

function describeWeights(header: RegisterBaseModelHeader, weights: Uint8Array): Described {
  const isGguf = GGUF_MAGIC.every((b, i) => weights[i] === b);
  const format = header.weightsFormat === WeightsFormat.UNSPECIFIED ? (isGguf ? WeightsFormat.GGUF : WeightsFormat.UNSPECIFIED) : header.weightsFormat;
  if (format === WeightsFormat.UNSPECIFIED) throw invalidArgument('header.weights_format', 'the file is not GGUF; set weights_format (SAFETENSORS or ONNX) and architecture');
  if (format === WeightsFormat.GGUF) {
    if (!isGguf) throw invalidArgument('chunk', 'weights_format is GGUF but the file does not start with the GGUF magic');
    const fromFile = ggufArchitecture(weights, header.name);
    if (header.architecture !== undefined) checkAgrees(header.architecture, fromFile.architecture);
    return fromFile;
  }
  if (header.architecture === undefined) throw invalidArgument('header.architecture', `is required for ${WeightsFormat[format]} weights (only GGUF files describe themselves)`);
  const a = header.architecture;
  for (const [field, value] of Object.entries({ hidden_size: a.hiddenSize, num_layers: a.numLayers, num_attention_heads: a.numAttentionHeads, num_key_value_heads: a.numKeyValueHeads, vocab_size: a.vocabSize, context_length: a.contextLength })) {
    if (value === 0) throw invalidArgument(`header.architecture.${field}`, 'must be > 0');
  }
  if (a.family === '') throw invalidArgument('header.architecture.family', 'is required, e.g. "llama"');
  if (a.hiddenSize % a.numAttentionHeads !== 0 || a.numAttentionHeads % a.numKeyValueHeads !== 0) {
    throw invalidArgument('header.architecture', 'hidden_size must be a multiple of num_attention_heads, and that of num_key_value_heads');
  }
  if (header.tokenizerKind === TokenizerKind.UNSPECIFIED) throw invalidArgument('header.tokenizer_kind', `is required for ${WeightsFormat[format]} weights`);
  return { architecture: { ...a }, tokenizerKind: header.tokenizerKind, format };
}

function ggufArchitecture(weights: Uint8Array, name: string): Described {
  let model;
  try {
    model = loadGgufBytes(weights, `weights of "${name}"`);
  } catch (err) {
    throw invalidArgument('chunk', (err as Error).message);
  }
  const c = model.weights.config;
  return {
    architecture: {
      family: model.architecture,
      hiddenSize: c.dim,
      numLayers: c.nLayers,
      numAttentionHeads: c.nHeads,
      numKeyValueHeads: c.nKvHeads,
      vocabSize: c.vocabSize,
      contextLength: c.contextLength,
    },
    tokenizerKind: TokenizerKind.SENTENCEPIECE,
    format: WeightsFormat.GGUF,
  };
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
  ];
  for (const [field, a, b] of pairs) {
    if (a !== b) throw invalidArgument(`header.architecture.${field}`, `is ${String(a)} but the GGUF file says ${String(b)}; leave architecture unset to take it from the file`);
  }
}

/** Weights already in the blob store (header.weights_blob_key): read back, verified by the store. */
export async function readStoredWeights(blobs: BlobStore, key: string): Promise<Uint8Array> {
  if (!/^model\/[0-9a-f]{64}$/.test(key)) throw invalidArgument('header.weights_blob_key', `${JSON.stringify(key)} is not a model blob key (model/<sha256>)`);
  if (!(await blobs.has(key))) throw notFound(`header.weights_blob_key: no blob ${key} in the blob store; upload the weights as chunks instead`);
  return blobs.get(key);
}

export async function getBaseModel(prisma: PrismaClient, name: string): Promise<BaseModelMessage> {
  checkModelName(name, 'name');
  const row = await prisma.baseModel.findUnique({ where: { name } });
  if (row === null) throw notFound(`no base model named "${name}"`);
  return toBaseModel(row);
}

export async function listBaseModels(prisma: PrismaClient, request: ListBaseModelsRequest): Promise<{ baseModels: BaseModelMessage[]; nextPageToken: string }> {
  const scope = 'base-models';
  const size = pageSize(request.pageSize);
  const after = decodePageToken(request.pageToken, scope, stringKey(1)) as [string] | undefined;
  const rows = await prisma.baseModel.findMany({
    where: after === undefined ? {} : { name: { gt: after[0] } },
    orderBy: { name: 'asc' },
    take: size + 1,
  });
  const { page, nextPageToken } = paginate(rows, size, scope, (r) => [r.name]);
  return { baseModels: page.map(toBaseModel), nextPageToken };
}
