import { invalidArgument } from './errors.js';

/**
 * Opaque keyset cursors: base64url JSON of the last row's sort key plus a `scope` string naming the
 * query's filters and order, so a token replayed against a different query is refused instead of
 * silently skipping rows.
 */
export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 1000;

export function pageSize(requested: number): number {
  return requested === 0 ? DEFAULT_PAGE_SIZE : Math.min(requested, MAX_PAGE_SIZE);
}

export function encodePageToken(scope: string, key: unknown[]): string {
  return Buffer.from(JSON.stringify({ s: scope, k: key })).toString('base64url');
}

const notOurs = (field: string) =>
  invalidArgument(field, 'is not a token this server issued; pass next_page_token from the previous response unchanged');

/** Keys made of strings only (names), the shape most listings use. */
export const stringKey =
  (length: number) =>
  (key: unknown[]): boolean =>
    key.length === length && key.every((k) => typeof k === 'string');

/**
 * The sort key of a token from the same scope; undefined for the first page. `isKey` checks the key's
 * shape, so a hand-made token fails as INVALID_ARGUMENT rather than deep in a query.
 */
export function decodePageToken(
  token: string,
  scope: string,
  isKey: (key: unknown[]) => boolean,
  field = 'page_token',
): unknown[] | undefined {
  if (token === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const p = parsed as { s?: unknown; k?: unknown } | undefined;
  if (typeof p !== 'object' || p === null || typeof p.s !== 'string' || !Array.isArray(p.k)) throw notOurs(field);
  if (p.s !== scope)
    throw invalidArgument(
      field,
      'was issued for a different filter or order; keep them the same across pages or start again without a token',
    );
  if (!isKey(p.k)) throw notOurs(field);
  return p.k;
}

/** Splits one extra row fetched beyond the page into the next token. */
export function paginate<T>(rows: T[], size: number, scope: string, keyOf: (row: T) => unknown[]): { page: T[]; nextPageToken: string } {
  if (rows.length <= size) return { page: rows, nextPageToken: '' };
  const page = rows.slice(0, size);
  return { page, nextPageToken: encodePageToken(scope, keyOf(page[page.length - 1])) };
}
