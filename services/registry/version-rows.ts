import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { InitMethod } from '../gen/ptune/v1/common_pb.js';
import { PromptVersionSchema, type PromptVersion } from '../gen/ptune/v1/registry_pb.js';
import { Prisma } from '../storage/index.js';
import { dtypeFromFile, methodFromDb } from '../domain/index.js';
import { initMethodFromColumns } from './init-columns.js';

/** One prompt version with everything its wire form needs, as read by VERSION_SELECT. */
export interface VersionRow {
  id: string;
  task_id: string;
  namespace: string;
  task_name: string;
  version: number;
  model_name: string;
  model_fingerprint: string;
  method: string;
  num_virtual_tokens: number;
  token_dim: number;
  init_method: string;
  init_text: string | null;
  parent_namespace: string | null;
  parent_task_name: string | null;
  parent_version: number | null;
  dtype: string;
  shape: number[];
  blob_key: string;
  sha256: string;
  size_bytes: number;
  metrics: Record<string, unknown>;
  hyperparameters: Record<string, unknown>;
  job_id: string | null;
  trial_id: string | null;
  request_id: string | null;
  created_by: string;
  created_at: Date;
  deleted_at: Date | null;
  aliases: string[];
}

/** SELECT … FROM prompt_version v (joined with its task t and model m); add WHERE/ORDER after it. */
export const VERSION_SELECT = Prisma.sql`
  SELECT v.id, v.task_id, t.namespace, t.name AS task_name, v.version,
         m.name AS model_name, m.fingerprint AS model_fingerprint,
         v.method::text AS method, v.num_virtual_tokens, v.token_dim, v.init_method::text AS init_method, v.init_text,
         pt.namespace AS parent_namespace, pt.name AS parent_task_name, p.version AS parent_version,
         v.dtype, v.shape, v.blob_key, v.sha256, v.size_bytes, v.metrics, v.hyperparameters,
         v.job_id::text AS job_id, v.trial_id::text AS trial_id, v.request_id, v.created_by, v.created_at, v.deleted_at,
         COALESCE((SELECT array_agg(a.name ORDER BY a.name) FROM alias a WHERE a.version_id = v.id), ARRAY[]::text[]) AS aliases
    FROM prompt_version v
    JOIN task t ON t.id = v.task_id
    JOIN base_model m ON m.id = v.base_model_id
    LEFT JOIN prompt_version p ON p.id = v.parent_version_id
    LEFT JOIN task pt ON pt.id = p.task_id`;

export function toPromptVersion(row: VersionRow): PromptVersion {
  const initMethod = initMethodFromColumns(row.init_method, row.init_text);
  return create(PromptVersionSchema, {
    task: { namespace: row.namespace, name: row.task_name },
    version: row.version,
    baseModel: { name: row.model_name, fingerprintSha256: row.model_fingerprint.trim() },
    method: methodFromDb(row.method),
    numVirtualTokens: row.num_virtual_tokens,
    tokenDim: row.token_dim,
    init: {
      method: initMethod,
      text: initMethod === InitMethod.TEXT ? (row.init_text ?? '') : '',
      parent:
        row.parent_version === null
          ? undefined
          : { task: { namespace: row.parent_namespace ?? '', name: row.parent_task_name ?? '' }, version: row.parent_version },
    },
    dtype: dtypeFromFile(row.dtype),
    shape: row.shape.map(BigInt),
    blobSha256: row.sha256.trim(),
    sizeBytes: BigInt(row.size_bytes),
    metrics: Object.fromEntries(Object.entries(row.metrics).filter((e): e is [string, number] => typeof e[1] === 'number')),
    hyperparameters: Object.fromEntries(
      Object.entries(row.hyperparameters).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]),
    ),
    lineage: row.job_id === null ? undefined : { jobId: row.job_id, trialId: row.trial_id ?? '' },
    createdBy: row.created_by,
    createdAt: timestampFromDate(row.created_at),
    aliases: row.aliases,
  });
}
