/**
 * Blob keys cannot escape the blob store's root: a property over 10,000 generated keys (any key the
 * validator accepts resolves inside the root), and a table of classic traversal keys that the local
 * store refuses for every operation without touching anything outside its root.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidBlobKeyError, LocalBlobStore, validateBlobKey } from '../../services/storage/index.js';

const TRAVERSALS = [
  '../outside',
  '../../etc/passwd',
  'dataset/../../outside',
  'dataset/../outside',
  '/etc/passwd',
  '//etc/passwd',
  'dataset/./x',
  '..',
  '.',
  '',
  'dataset/',
  'dataset//x',
  'dataset\\..\\..\\outside',
  'C:\\outside',
  'c:/outside',
  'dataset/\0x',
  'dataset/.hidden',
  '%2e%2e/outside',
  'dataset/..%2foutside',
  'Dataset/X',
  'dataset/\u2025/outside',
  `dataset/${'a'.repeat(600)}`,
];

describe('blob keys cannot leave the store root', () => {
  let parent: string;
  let root: string;
  let store: LocalBlobStore;
  let outsideBefore: string[];
  beforeAll(async () => {
    parent = await mkdtemp(path.join(os.tmpdir(), 'ptune-traversal-'));
    root = path.join(parent, 'root');
    await mkdir(root);
    await writeFile(path.join(parent, 'outside'), 'sentinel');
    store = new LocalBlobStore(root);
    outsideBefore = (await readdir(parent)).sort();
  });
  afterAll(() => rm(parent, { recursive: true, force: true }));

  it('every key the validator accepts (10,000 generated) resolves inside the root', () => {
    const segment = fc.oneof(
      fc.constantFrom('..', '.', '', 'dataset', 'a', '...', '..a', 'a..', '%2e%2e', 'C:', '\\..', '~'),
      fc.string({ unit: fc.constantFrom('a', '0', '.', '-', '_', '/', '\\', ':', '%', '\0', 'A', '~', '\u2024'), maxLength: 8 }),
    );
    let accepted = 0;
    fc.assert(
      fc.property(
        fc.array(segment, { minLength: 1, maxLength: 5 }).map((parts) => parts.join('/')),
        (key) => {
          try {
            validateBlobKey(key);
          } catch (err) {
            if (!(err instanceof InvalidBlobKeyError)) throw err;
            return;
          }
          accepted++;
          const resolved = path.resolve(root, key);
          if (!resolved.startsWith(root + path.sep)) throw new Error(`key ${JSON.stringify(key)} resolves to ${resolved}, outside ${root}`);
        },
      ),
      { numRuns: 10_000, seed: 43 },
    );
    expect(accepted).toBeGreaterThan(100);
  });

  it.each(TRAVERSALS.map((key) => [JSON.stringify(key), key] as const))('refuses %s for put, get, has and delete', async (_label, key) => {
    const bytes = new TextEncoder().encode('payload');
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    for (const attempt of [
      () => store.put(key, bytes, { sha256 }),
      () => store.get(key),
      () => store.has(key),
      () => store.delete(key),
      () => store.getStream(key),
    ]) {
      await expect(attempt()).rejects.toBeInstanceOf(InvalidBlobKeyError);
    }
    expect((await readdir(parent)).sort()).toEqual(outsideBefore);
  });
});
