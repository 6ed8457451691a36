/**
 * Server limits, one place: every limit has a default here and an environment variable that
 * overrides it. The README's "Limits" table lists the same names and defaults.
 */
export interface Limits {
  /** largest gRPC message in either direction (bigger ones fail with RESOURCE_EXHAUSTED) */
  readonly maxMessageBytes: number;
  /** most virtual tokens a TrainPrompt (or a sweep point of it) may ask for */
  readonly maxVirtualTokens: number;
  /** largest dataset UploadDataset accepts */
  readonly maxDatasetBytes: number;
  /** most trials (tasks × sweep points) one TrainPrompt may create */
  readonly maxTrialsPerJob: number;
  /** most QUEUED or RUNNING jobs one namespace may have at a time */
  readonly maxActiveJobsPerNamespace: number;
  /** deadline of every internal call (worker → coordinator, CLI → server) */
  readonly internalCallTimeoutMs: number;
}

export const DEFAULT_LIMITS: Limits = {
  maxMessageBytes: 8 * 1024 * 1024,
  maxVirtualTokens: 512,
  maxDatasetBytes: 256 * 1024 * 1024,
  maxTrialsPerJob: 1024,
  maxActiveJobsPerNamespace: 16,
  internalCallTimeoutMs: 60_000,
};

/** The environment variable of each limit. */
export const LIMIT_ENV: Readonly<Record<keyof Limits, string>> = {
  maxMessageBytes: 'PTUNE_MAX_MESSAGE_BYTES',
  maxVirtualTokens: 'PTUNE_MAX_VIRTUAL_TOKENS',
  maxDatasetBytes: 'PTUNE_MAX_DATASET_BYTES',
  maxTrialsPerJob: 'PTUNE_MAX_TRIALS_PER_JOB',
  maxActiveJobsPerNamespace: 'PTUNE_MAX_ACTIVE_JOBS_PER_NAMESPACE',
  internalCallTimeoutMs: 'PTUNE_INTERNAL_CALL_TIMEOUT_MS',
};

/** Defaults overridden by the environment; a malformed value is an error naming the variable. */
export function limitsFromEnv(env: NodeJS.ProcessEnv): Limits {
  const limits: Record<string, number> = { ...DEFAULT_LIMITS };
  for (const [key, name] of Object.entries(LIMIT_ENV)) {
    const text = env[name];
    if (text === undefined || text.trim() === '') continue;
    const value = Number(text);
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new Error(`${name}=${JSON.stringify(text)}: expected a positive integer (default ${DEFAULT_LIMITS[key as keyof Limits]})`);
    }
    limits[key] = value;
  }
  return limits as unknown as Limits;
}
