import { describe, expect, it } from 'vitest';
import { bearerToken, hashSecret, newToken, parseToken, secretMatches } from './token-secret.js';

describe('token secrets', () => {
  it('round-trips ptk_<id>_<secret> and stores only a hash that matches the secret', () => {
    const token = newToken();
    expect(token.text).toMatch(/^ptk_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$/);
    expect(parseToken(token.text)).toEqual({ id: token.id, secret: token.secret });
    expect(token.secretHash).toBe(hashSecret(token.secret));
    expect(token.secretHash).not.toContain(token.secret);
    expect(secretMatches(token.secret, token.secretHash)).toBe(true);
    expect(secretMatches(`${token.secret.slice(0, -1)}x`, token.secretHash)).toBe(false);
    expect(secretMatches(token.secret, 'not hex')).toBe(false);
  });

  it('never repeats ids or secrets', () => {
    const tokens = Array.from({ length: 200 }, newToken);
    expect(new Set(tokens.map((t) => t.id)).size).toBe(200);
    expect(new Set(tokens.map((t) => t.secret)).size).toBe(200);
  });

  it('refuses malformed token texts and authorization headers', () => {
    for (const text of [
      '',
      'ptk_',
      'ptk_abc_def',
      `ptk_${'A'.repeat(12)}_${'a'.repeat(43)}`,
      `xyz_${'a'.repeat(12)}_${'a'.repeat(43)}`,
      `ptk_${'a'.repeat(12)}_${'a'.repeat(44)}`,
    ]) {
      expect(parseToken(text), text).toBeUndefined();
    }
    expect(bearerToken('Bearer ptk_x')).toBe('ptk_x');
    expect(bearerToken('bearer  ptk_x ')).toBe('ptk_x');
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken('Bearer a b')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });
});
