import type { TaskRef } from '../gen/ptune/v1/common_pb.js';
import { PayloadFormat, PromptRegistryService } from '../gen/ptune/v1/registry_pb.js';
import { implement, type ServiceImplementation } from '../grpc/index.js';
import { isSha256Hex, type BlobStore, type PrismaClient } from '../storage/index.js';
import { aliasHistory, deleteAlias, setAlias } from './aliases.js';
import { checkModelHeader, getBaseModel, listBaseModels, registerBaseModel } from './base-models.js';
import { ReadCoalescer } from './coalesce-reads.js';
import { createPromptVersion, type PromptPayload } from './create-version.js';
import { deletePromptVersion } from './delete-version.js';
import { exportPeft } from './export-peft.js';
import { GetPromptResponses } from './get-prompt-response.js';
import { listPromptVersions } from './list-versions.js';
import { checkTaskRef, formatTaskName, invalidArgument, resourceExhausted } from '../domain/index.js';
import { PromptCache } from './prompt-cache.js';
import type { PromptChanges } from './prompt-changes.js';
import { ResolutionCache } from './resolution-cache.js';
import { sha256Hex } from './prompt-tensor.js';
import { checkSelector } from './resolve.js';
import { pgRowReader, prismaRowReader } from './row-reader.js';
import { checkDtype, checkIfNoneMatch, servePrompt } from './serve-prompt.js';
import { createTask, getTask, listTasks } from './tasks.js';
import { VersionResolver } from './version-resolver.js';
import type { VersionRow } from './version-rows.js';
import { openUpload, receiveUpload } from './upload.js';

const MiB = 1024 * 1024;

export interface PromptRegistryOptions {
  prisma: PrismaClient;
  blobs: BlobStore;
  /** Byte budget of the in-memory prompt payload cache; 0 turns it off. Default 256 MiB. */
  cacheBytes?: number;
  /**
   * Where this server hears of prompt version and alias changes (see prompt-changes.ts). With it,
   * GetPrompt keeps resolutions (selector → version) in memory until a change to their task is
   * heard, so hot reads skip the database; without it every GetPrompt resolves in the database.
   * This registry reports its own writes to it.
   */
  changes?: PromptChanges;
  /** Told every prompt cache lookup (e.g. PtuneMetrics.recordPromptCacheLookup). */
  onCacheLookup?: (result: 'hit' | 'miss') => void;
  /**
   * Postgres URL for GetPrompt's prepared resolution queries (its own small pool); unset (embedded
   * PGlite) sends them through Prisma.
   */
  hotReadUrl?: string;
  /** Largest payload of the unary CreatePromptVersion / GetPrompt / ExportPeft. Default 4 MiB. */
  unaryLimitBytes?: number;
  /** Largest prompt file accepted by CreatePromptVersionStream. Default 256 MiB. */
  maxPromptBytes?: number;
  /** Largest model (all its files) accepted by RegisterBaseModel; staged on local disk while it is checked. Default 64 GiB. */
  maxModelBytes?: number;
  /** Largest chunk GetPromptStream sends. Default 4 MiB (the default chunk is 1 MiB). */
  maxChunkBytes?: number;
}

export interface PromptRegistry {
  service: ServiceImplementation;
  cache: PromptCache;
  /** Releases the registry's own database connections (see row-reader.ts). */
  close(): Promise<void>;
}

/** The PromptRegistryService: thin handlers over the registry's operations. */
export function createPromptRegistry(options: PromptRegistryOptions): PromptRegistry {
  const { prisma, blobs } = options;
  const cache = new PromptCache(options.cacheBytes ?? 256 * MiB, options.onCacheLookup);
  const reader = options.hotReadUrl === undefined ? prismaRowReader(prisma) : pgRowReader(options.hotReadUrl);
  const { changes } = options;
  const resolutionCache = changes === undefined ? undefined : new ResolutionCache(changes);
  const versions = new VersionResolver(prisma, reader);
  const serving = { prisma, blobs, cache, resolutions: new ReadCoalescer<VersionRow>(), versions, resolutionCache };
  /** Runs a write of one task's versions or aliases, then reports the change (its cached resolutions go). */
  const changing = async <T>(task: TaskRef | undefined, write: () => Promise<T>): Promise<T> => {
    try {
      return await write();
    } finally {
      if (task !== undefined) changes?.taskChanged(formatTaskName(task));
    }
  };
  const getPromptResponses = new GetPromptResponses();
  const unaryLimit = options.unaryLimitBytes ?? 4 * MiB;
  const maxChunk = options.maxChunkBytes ?? 4 * MiB;

  const refuseAboveUnary = (size: number, what: string, instead: string): void => {
    if (size > unaryLimit)
      throw resourceExhausted(`${what} is ${size} bytes, above the unary limit of ${unaryLimit} bytes; use ${instead}`);
  };

  const service = implement(PromptRegistryService, {
    async registerBaseModel(requests) {
      const upload = await openUpload(requests, {
        what: 'model',
        maxBytes: options.maxModelBytes ?? 64 * 1024 * MiB,
        checkHeader: checkModelHeader,
      });
      return registerBaseModel({ prisma, blobs }, upload.header, upload.chunks);
    },
    async getBaseModel(request) {
      return { baseModel: await getBaseModel(prisma, request.name) };
    },
    listBaseModels: (request) => listBaseModels(prisma, request),

    createTask: (request) => createTask(prisma, request),
    async getTask(request) {
      return { task: await getTask(prisma, checkTaskRef(request.task, 'task')) };
    },
    listTasks: (request) => listTasks(prisma, request),

    async createPromptVersion(request) {
      let payload: PromptPayload;
      switch (request.payload.case) {
        case 'safetensors':
          payload = { kind: 'safetensors', bytes: request.payload.value, field: 'safetensors' };
          break;
        case 'peftAdapter':
          payload = {
            kind: 'peft',
            configJson: request.payload.value.adapterConfigJson,
            bytes: request.payload.value.adapterModelSafetensors,
            configField: 'peft_adapter.adapter_config_json',
            field: 'peft_adapter.adapter_model_safetensors',
          };
          break;
        default:
          throw invalidArgument('payload', 'set safetensors or peft_adapter');
      }
      refuseAboveUnary(payload.bytes.byteLength, 'the prompt file', 'CreatePromptVersionStream');
      return changing(request.spec?.task, () => createPromptVersion({ prisma, blobs }, request.spec, payload));
    },
    async createPromptVersionStream(requests) {
      const { header, bytes } = await receiveUpload(requests, {
        what: 'prompt file',
        maxBytes: options.maxPromptBytes ?? 256 * MiB,
        checkHeader(h) {
          if (h === undefined) throw invalidArgument('header', 'is required');
          if (h.format === PayloadFormat.UNSPECIFIED || PayloadFormat[h.format] === undefined)
            throw invalidArgument('header.format', 'set SAFETENSORS or PEFT');
          if ((h.format === PayloadFormat.PEFT) !== h.adapterConfigJson.byteLength > 0) {
            throw invalidArgument('header.adapter_config_json', 'is required with format PEFT and must be empty otherwise');
          }
          if (h.expectedSha256 !== '' && !isSha256Hex(h.expectedSha256))
            throw invalidArgument('header.expected_sha256', 'must be 64 lowercase hex digits');
          return Number(h.sizeBytes);
        },
      });
      const payload: PromptPayload =
        header.format === PayloadFormat.PEFT
          ? { kind: 'peft', configJson: header.adapterConfigJson, bytes, configField: 'header.adapter_config_json', field: 'chunk' }
          : { kind: 'safetensors', bytes, field: 'chunk' };
      if (header.expectedSha256 !== '' && sha256Hex(bytes) !== header.expectedSha256) {
        throw invalidArgument(
          'header.expected_sha256',
          `the received bytes hash to ${sha256Hex(bytes)}, not ${header.expectedSha256}; the upload was damaged or the wrong file was sent`,
        );
      }
      return changing(header.spec?.task, () => createPromptVersion({ prisma, blobs }, header.spec, payload));
    },
    async getPrompt(request) {
      const selection = checkSelector(request.prompt, 'prompt');
      const dtype = checkDtype(request.dtype, 'dtype');
      const served = await servePrompt(serving, selection, dtype, checkIfNoneMatch(request.ifNoneMatch, 'if_none_match'), 'dtype');
      if (served.payload !== undefined) refuseAboveUnary(served.payloadSizeBytes, 'the prompt file', 'GetPromptStream');
      return getPromptResponses.encode(served);
    },
    async *getPromptStream(request) {
      const selection = checkSelector(request.prompt, 'prompt');
      const dtype = checkDtype(request.dtype, 'dtype');
      const chunkSize = request.chunkSize === 0 ? MiB : Math.min(request.chunkSize, maxChunk);
      const served = await servePrompt(serving, selection, dtype, checkIfNoneMatch(request.ifNoneMatch, 'if_none_match'), 'dtype');
      yield {
        part: {
          case: 'header',
          value: {
            version: served.version,
            notModified: served.payload === undefined,
            payloadSha256: served.payloadSha256,
            payloadDtype: served.payloadDtype,
            payloadSizeBytes: BigInt(served.payloadSizeBytes),
          },
        },
      };
      const payload = served.payload ?? new Uint8Array();
      for (let at = 0; at < payload.byteLength; at += chunkSize) {
        yield { part: { case: 'chunk', value: payload.subarray(at, at + chunkSize) } };
      }
    },
    listPromptVersions: (request) => listPromptVersions(prisma, request),
    async deletePromptVersion(request) {
      await changing(request.version?.task, () => deletePromptVersion(prisma, request));
      return {};
    },
    async exportPeft(request) {
      const exported = await exportPeft(serving, checkSelector(request.prompt, 'prompt'), checkDtype(request.dtype, 'dtype'));
      refuseAboveUnary(
        exported.adapterModelSafetensors.byteLength,
        'the adapter',
        'GetPromptStream and write adapter_config.json yourself',
      );
      return exported;
    },

    setAlias: (request) => changing(request.task, () => setAlias(prisma, request)),
    deleteAlias: (request) => changing(request.task, () => deleteAlias(prisma, request)),
    getAliasHistory: (request) => aliasHistory(prisma, request),
  });
  return {
    service,
    cache,
    close: () => {
      resolutionCache?.close();
      return reader.close();
    },
  };
}
