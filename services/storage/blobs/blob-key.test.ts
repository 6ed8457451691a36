import { describe, expect, it } from 'vitest';
import { InvalidBlobKeyError } from './blob-errors.js';
import { checkPutArguments, contentKey, sha256OfKey, validateBlobKey } from './blob-key.js';

const SHA = 'a'.repeat(64);

describe('blob keys', () => {
  it.each([`prompt/${SHA}`, `dataset/${SHA}`, 'checkpoint/trial-1/step_000100', 'a', 'x.y-z_0/1'])('accepts %s', (key) => {
    expect(() => validateBlobKey(key)).not.toThrow();
  });

  it.each([
    ['parent traversal', '../etc/passwd'],
    ['traversal in the middle', 'prompt/../../x'],
    ['current dir segment', 'prompt/./x'],
    ['absolute path', '/etc/passwd'],
    ['trailing slash', 'prompt/'],
    ['empty segment', 'prompt//x'],
    ['backslash', 'prompt\\..\\x'],
    ['NUL byte', 'prompt/x\0y'],
    ['windows drive', 'C:/x'],
    ['hidden file', 'prompt/.tmp'],
    ['upper case', `prompt/${SHA.toUpperCase()}`],
    ['empty', ''],
    ['too long', `p/${'a'.repeat(600)}`],
  ])('rejects %s', (_what, key) => {
    expect(() => validateBlobKey(key)).toThrow(InvalidBlobKeyError);
  });

  it('derives content keys and reads the sha256 back', () => {
    expect(contentKey('prompt', SHA)).toBe(`prompt/${SHA}`);
    expect(sha256OfKey(`prompt/${SHA}`)).toBe(SHA);
    expect(sha256OfKey('checkpoint/trial-1/step_000100')).toBeUndefined();
    expect(() => contentKey('prompt', 'abc')).toThrow(/64 lower-case hex/);
  });

  it('refuses a content key whose name disagrees with the declared digest', () => {
    expect(() => checkPutArguments(`prompt/${SHA}`, 'b'.repeat(64))).toThrow(/names sha256/);
  });
});
