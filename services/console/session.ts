/**
 * Who is signed in, and the CSRF rule. The session cookie holds the API token itself (HttpOnly,
 * SameSite=Strict, Path=/, Secure under TLS): the console keeps no session state, so every replica
 * of a coordinator serves every session, and revoking the token ends the session. Every form
 * carries a CSRF token derived from the session (or, on the sign-in form, from a one-off nonce
 * cookie); a POST must carry the matching one and an Origin header naming this server.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

export const SESSION_COOKIE = 'ptune_session';
export const SIGN_IN_COOKIE = 'ptune_sign_in';
/** Stored for a server without authentication, where sign-in needs no token. */
const NO_TOKEN = '-';

export interface Session {
  /** The bearer token, or '' for a server running without authentication. */
  readonly token: string;
  /** Form field value every POST of this session must carry. */
  readonly csrf: string;
}

/** A CSRF token bound to one cookie value: unguessable without the (HttpOnly) cookie. */
export function csrfTokenFor(cookieValue: string): string {
  return createHash('sha256').update(`ptune-console-csrf:${cookieValue}`).digest('base64url');
}

export function readSession(request: FastifyRequest): Session | undefined {
  const value = request.cookies[SESSION_COOKIE];
  if (value === undefined || value === '') return undefined;
  return { token: value === NO_TOKEN ? '' : value, csrf: csrfTokenFor(value) };
}

function cookieOptions(request: FastifyRequest) {
  return { httpOnly: true, sameSite: 'strict', path: '/', secure: request.protocol === 'https' } as const;
}

export function startSession(request: FastifyRequest, reply: FastifyReply, token: string): void {
  reply.setCookie(SESSION_COOKIE, token === '' ? NO_TOKEN : token, cookieOptions(request));
  reply.clearCookie(SIGN_IN_COOKIE, cookieOptions(request));
}

export function endSession(request: FastifyRequest, reply: FastifyReply): void {
  reply.clearCookie(SESSION_COOKIE, cookieOptions(request));
}

/** The sign-in form's CSRF token, from a nonce cookie set now when there is none. */
export function signInCsrf(request: FastifyRequest, reply: FastifyReply): string {
  let nonce = request.cookies[SIGN_IN_COOKIE];
  if (nonce === undefined || nonce === '') {
    nonce = randomBytes(24).toString('base64url');
    reply.setCookie(SIGN_IN_COOKIE, nonce, cookieOptions(request));
  }
  return csrfTokenFor(nonce);
}

export function signInCsrfMatches(request: FastifyRequest, presented: unknown): boolean {
  const nonce = request.cookies[SIGN_IN_COOKIE];
  return nonce !== undefined && nonce !== '' && sameText(csrfTokenFor(nonce), presented);
}

export function sameText(expected: string, presented: unknown): boolean {
  if (typeof presented !== 'string') return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(presented);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Origin check of a POST: the browser's Origin header must name the host the request was sent to
 * (a form posted from another site carries that site's origin; a missing header is refused too).
 */
export function sameOrigin(request: FastifyRequest): boolean {
  const origin = request.headers.origin;
  if (origin === undefined || origin === 'null') return false;
  return origin === `${request.protocol}://${request.host}`;
}
