/**
 * The glibc malloc setting ptune's processes run with (bin/ptune.js starts the CLI under it, the
 * image sets it, the engine bench runs our side under it).
 *
 * Training sessions after a run's first shape have no onnxruntime arena (../train/prompt-runner.ts),
 * so every step mallocs and frees its activations, megabytes each. glibc's dynamic mmap threshold
 * rises to the size of each big block freed, after which such blocks come from the heap and stay
 * there, fragmented. A fixed threshold keeps them mmapped and returned on free: on bench85m over 8
 * length buckets peak RSS was 1178 MB with glibc's default against 1057 MB with this setting (one
 * bucket, on its arena: 1031 MB). Other C libraries ignore the variable.
 */
export const MALLOC_TUNABLES = 'glibc.malloc.mmap_threshold=131072';

const TUNABLES = 'GLIBC_TUNABLES';

/** Whether `env` leaves the mmap threshold to glibc (a process started with it would run with the dynamic threshold). */
export function lacksMallocTunables(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): boolean {
  return platform === 'linux' && !(env[TUNABLES] ?? '').includes('glibc.malloc.mmap_threshold=');
}

/** `env` with MALLOC_TUNABLES added to whatever GLIBC_TUNABLES it already has. */
export function withMallocTunables(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  if (!lacksMallocTunables(env, 'linux')) return env;
  return { ...env, [TUNABLES]: [env[TUNABLES], MALLOC_TUNABLES].filter((s) => s !== undefined && s !== '').join(':') };
}
