import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, LIMIT_ENV, limitsFromEnv } from './limits.js';

describe('limits', () => {
  it('takes the defaults, overridden by the environment', () => {
    expect(limitsFromEnv({})).toEqual(DEFAULT_LIMITS);
    expect(limitsFromEnv({ PTUNE_MAX_VIRTUAL_TOKENS: '64', PTUNE_MAX_ACTIVE_JOBS_PER_NAMESPACE: ' ' })).toEqual({
      ...DEFAULT_LIMITS,
      maxVirtualTokens: 64,
    });
    expect(Object.keys(LIMIT_ENV).sort()).toEqual(Object.keys(DEFAULT_LIMITS).sort());
  });

  it('names the variable and the default of a malformed value', () => {
    expect(() => limitsFromEnv({ PTUNE_MAX_DATASET_BYTES: '1e3' })).not.toThrow();
    expect(() => limitsFromEnv({ PTUNE_MAX_DATASET_BYTES: 'lots' })).toThrow(
      /PTUNE_MAX_DATASET_BYTES="lots": expected a positive integer \(default 268435456\)/,
    );
    expect(() => limitsFromEnv({ PTUNE_MAX_TRIALS_PER_JOB: '0' })).toThrow(/PTUNE_MAX_TRIALS_PER_JOB/);
    expect(() => limitsFromEnv({ PTUNE_MAX_TRIALS_PER_JOB: '2.5' })).toThrow(/PTUNE_MAX_TRIALS_PER_JOB/);
  });
});
