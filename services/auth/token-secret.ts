/**
 * The token text `ptk_<id>_<secret>`: a 12-character public id (the row's key) and a 256-bit
 * secret. Only sha256(secret) is stored; a presented secret is hashed and compared in constant time.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const PREFIX = 'ptk_';
const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const ID_LENGTH = 12;
const TOKEN = /^ptk_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/;

export interface TokenParts {
  readonly id: string;
  readonly secret: string;
}

export interface NewToken extends TokenParts {
  /** what the client sends: ptk_<id>_<secret> */
  readonly text: string;
  readonly secretHash: string;
}

export function newToken(): NewToken {
  const id = Array.from(randomBytes(ID_LENGTH), (byte) => ID_ALPHABET[byte % ID_ALPHABET.length]).join('');
  const secret = randomBytes(32).toString('base64url');
  return { id, secret, text: `${PREFIX}${id}_${secret}`, secretHash: hashSecret(secret) };
}

/** The parts of a well-formed token text, or undefined. */
export function parseToken(text: string): TokenParts | undefined {
  const match = TOKEN.exec(text);
  return match === null ? undefined : { id: match[1], secret: match[2] };
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Constant-time comparison of a presented secret with a stored sha256 hex. */
export function secretMatches(secret: string, storedHash: string): boolean {
  const presented = Buffer.from(hashSecret(secret), 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return stored.length === presented.length && timingSafeEqual(presented, stored);
}

/** The token in an `authorization: Bearer <token>` header value, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}
