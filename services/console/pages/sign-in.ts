/** Sign-in (a token, checked by the API) and sign-out. */
import { status } from '@grpc/grpc-js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { RpcError, type GrpcTransport } from '../../grpc/index.js';
import { html } from '../html.js';
import { page } from '../layout.js';
import { singleQuery } from '../signed-in.js';
import { endSession, readSession, sameOrigin, sameText, signInCsrf, signInCsrfMatches, startSession } from '../session.js';
import { userApi, whoAmI } from '../user-api.js';

/**
 * Only a path on this server may be the redirect after sign-in: never "//other.site", "https://…",
 * nor one that browsers turn into those (they drop tabs and newlines and read "\\" as "/").
 */
export function localPath(next: unknown): string {
  const unsafe = (c: string): boolean => c <= '\u001f' || c === '\u007f' || c === '\\';
  if (typeof next !== 'string' || !next.startsWith('/') || [...next].some(unsafe)) return '/';
  return new URL(next, 'http://console.invalid').host === 'console.invalid' && !next.startsWith('//') ? next : '/';
}

const loopbackHost = (hostname: string): boolean => ['localhost', '127.0.0.1', '::1', '[::1]'].includes(hostname.toLowerCase());

function signInForm(request: FastifyRequest, reply: FastifyReply, next: string, message?: string): string {
  const csrf = signInCsrf(request, reply);
  return page(
    'Sign in',
    undefined,
    html`${message && html`<p class="error" role="alert">${message}</p>`}
      <form method="post" action="/sign-in" class="sign-in">
        <input type="hidden" name="csrf" value="${csrf}" />
        <input type="hidden" name="next" value="${next}" />
        <label>API token <input type="password" name="token" autocomplete="current-password" placeholder="ptk_…" size="60" /></label>
        <button type="submit">Sign in</button>
      </form>
      <p class="hint">Use a token from <code>ptune tokens create</code>. A server running without authentication takes an empty token.</p>`,
  ).text;
}

export function showSignIn(request: FastifyRequest, reply: FastifyReply): void {
  const query = singleQuery(request);
  const message =
    query.refused !== undefined ? 'The API refused your token (unknown, revoked or not a user token). Sign in again.' : undefined;
  void reply.type('text/html; charset=utf-8').send(signInForm(request, reply, localPath(query.next), message));
}

export function signIn(transport: GrpcTransport) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const body = (request.body ?? {}) as Record<string, unknown>;
    const next = localPath(body.next);
    if (!sameOrigin(request) || !signInCsrfMatches(request, body.csrf)) {
      void reply
        .code(403)
        .type('text/html; charset=utf-8')
        .send(signInForm(request, reply, next, 'The form expired or came from another site: sign in again.'));
      return;
    }
    const token = typeof body.token === 'string' ? body.token.trim() : '';
    if (token === '' && !loopbackHost(request.hostname)) {
      // a page of another site whose name was rebound to 127.0.0.1 (DNS rebinding) passes the Origin
      // check with its own name: without authentication, only a page addressed to loopback signs in
      void reply
        .code(403)
        .type('text/html; charset=utf-8')
        .send(signInForm(request, reply, next, 'Signing in without a token works only at localhost, 127.0.0.1 or [::1].'));
      return;
    }
    try {
      await whoAmI(userApi(transport, token));
    } catch (err) {
      if (!(err instanceof RpcError) || (err.code !== status.UNAUTHENTICATED && err.code !== status.PERMISSION_DENIED)) throw err;
      const message =
        err.code === status.UNAUTHENTICATED
          ? 'The API refused that token (unknown or revoked).'
          : 'That token cannot read the registry (a worker token?).';
      void reply
        .code(401)
        .type('text/html; charset=utf-8')
        .send(signInForm(request, reply, next, message));
      return;
    }
    startSession(request, reply, token);
    void reply.redirect(next, 303);
  };
}

export function signOut(request: FastifyRequest, reply: FastifyReply): void {
  const body = (request.body ?? {}) as Record<string, unknown>;
  const session = readSession(request);
  if (session === undefined || !sameOrigin(request) || !sameText(session.csrf, body.csrf)) {
    void reply.code(403).type('text/plain; charset=utf-8').send('refused: missing or wrong CSRF token, or another origin');
    return;
  }
  endSession(request, reply);
  void reply.redirect('/sign-in', 303);
}
