import { describe, expect, it } from 'vitest';
import { lacksMallocTunables, MALLOC_TUNABLES, withMallocTunables } from './malloc-tunables.js';

describe('malloc tunables', () => {
  it('are added to an environment without them, after any GLIBC_TUNABLES it has', () => {
    expect(withMallocTunables({ PATH: '/bin' })).toEqual({ PATH: '/bin', GLIBC_TUNABLES: MALLOC_TUNABLES });
    expect(withMallocTunables({ GLIBC_TUNABLES: '' }).GLIBC_TUNABLES).toBe(MALLOC_TUNABLES);
    expect(withMallocTunables({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' }).GLIBC_TUNABLES).toBe(
      `glibc.malloc.arena_max=2:${MALLOC_TUNABLES}`,
    );
  });

  it('leave an mmap threshold the environment already chose, and matter only on linux', () => {
    const chosen = { GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=65536' };
    expect(withMallocTunables(chosen)).toBe(chosen);
    expect(lacksMallocTunables(chosen, 'linux')).toBe(false);
    expect(lacksMallocTunables({}, 'linux')).toBe(true);
    expect(lacksMallocTunables({}, 'darwin')).toBe(false);
  });
});
