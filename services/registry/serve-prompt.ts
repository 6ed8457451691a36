import { Dtype } from '../gen/ptune/v1/common_pb.js';
import type { PromptVersion } from '../gen/ptune/v1/registry_pb.js';
import type { BlobStore, PrismaClient } from '../storage/index.js';
import { dtypeToFile, formatTaskName, invalidArgument } from '../domain/index.js';
import { PromptCache, type CachedPayload } from './prompt-cache.js';
import { convertPromptFile, sha256Hex } from './prompt-tensor.js';
import type { ReadCoalescer } from './coalesce-reads.js';
import type { Selection } from './resolve.js';
import type { ResolutionCache } from './resolution-cache.js';
import type { VersionResolver } from './version-resolver.js';
import { toPromptVersion, type VersionRow } from './version-rows.js';

export interface ServingStores {
  prisma: PrismaClient;
  blobs: BlobStore;
  cache: PromptCache;
  /** Shares one fresh resolution among concurrent identical requests (hot aliases). */
  resolutions: ReadCoalescer<VersionRow>;
  /** Resolves a selection with one light query (prepared statements over Postgres). */
  versions: VersionResolver;
  /** Resolutions kept until a change notification drops them; without it every call resolves in the database. */
  resolutionCache?: ResolutionCache;
}

/** A resolved GetPrompt: metadata, and the payload unless the client already holds it. */
export interface ServedPrompt {
  /** The version row's id: with `version.aliases`, it determines every field of `version` (rows are immutable but for tombstones, and served rows have none). */
  versionId: string;
  version: PromptVersion;
  payloadSha256: string;
  payloadDtype: Dtype;
  payloadSizeBytes: number;
  /** Undefined when not modified. */
  payload?: Uint8Array;
}

export function checkDtype(dtype: Dtype, field: string): Dtype {
  if (dtype !== Dtype.UNSPECIFIED && dtypeToFile(dtype) === undefined)
    throw invalidArgument(field, `unknown dtype ${dtype}; use F32, F16 or BF16`);
  return dtype;
}

export function checkIfNoneMatch(value: string, field: string): string {
  if (value !== '' && !/^[0-9a-f]{64}$/.test(value)) throw invalidArgument(field, 'must be a lowercase hex sha256 (64 digits) or empty');
  return value;
}

/**
 * Resolves a selection (one query, shared by concurrent identical requests) and produces the payload in the requested dtype. Stored bytes
 * come from the cache or from the blob store, which verifies them against their sha256 before they
 * are cached; conversions are cached under the stored sha256 plus the dtype.
 */
export async function servePrompt(
  stores: ServingStores,
  selection: Selection,
  dtype: Dtype,
  ifNoneMatch: string,
  dtypeField: string,
): Promise<ServedPrompt> {
  const key = JSON.stringify(selection);
  const { resolutionCache } = stores;
  const resolve = (): Promise<VersionRow> => stores.versions.resolve(selection);
  const row =
    resolutionCache?.get(key) ??
    (await stores.resolutions.read(key, () =>
      resolutionCache === undefined ? resolve() : resolutionCache.load(formatTaskName(selection.task), key, resolve),
    ));
  const version = toPromptVersion(row);
  const storedSha = version.blobSha256;
  const target = dtype === Dtype.UNSPECIFIED || dtype === version.dtype ? version.dtype : dtype;
  if (target === version.dtype && ifNoneMatch === storedSha) {
    return { versionId: row.id, version, payloadSha256: storedSha, payloadDtype: target, payloadSizeBytes: Number(version.sizeBytes) };
  }
  const stored = await stores.cache.getOrLoad(storedSha, async () => ({ bytes: await stores.blobs.get(row.blob_key), sha256: storedSha }));
  const payload =
    target === version.dtype
      ? stored
      : await stores.cache.getOrLoad(`${storedSha}/${dtypeToFile(target)}`, async () => convert(stored, target, dtypeField));
  const served: ServedPrompt = {
    versionId: row.id,
    version,
    payloadSha256: payload.sha256,
    payloadDtype: target,
    payloadSizeBytes: payload.bytes.byteLength,
  };
  if (ifNoneMatch !== payload.sha256) served.payload = payload.bytes;
  return served;
}

function convert(stored: CachedPayload, target: Dtype, field: string): Promise<CachedPayload> {
  const bytes = convertPromptFile(stored.bytes, dtypeToFile(target) ?? 'F32', field);
  return Promise.resolve({ bytes, sha256: sha256Hex(bytes) });
}
