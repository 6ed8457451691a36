import { createHash } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import { BlobIntegrityError } from './blob-errors.js';

/** Passes bytes through and fails the stream at its end if their sha256 is not `expected`. */
export function verifyingStream(source: Readable, key: string, expected: string): Readable {
  const hash = createHash('sha256');
  const check = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      done(null, chunk);
    },
    flush(done) {
      const actual = hash.digest('hex');
      done(actual === expected ? null : new BlobIntegrityError(key, expected, actual));
    },
  });
  source.on('error', (err) => check.destroy(err));
  // a reader that stops early destroys `check`: release the file or connection behind it too
  check.on('close', () => source.destroy());
  return source.pipe(check);
}
