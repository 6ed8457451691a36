/**
 * Runs a page as the signed-in user: no session → the sign-in page; a token the API refuses
 * (unknown, revoked) → the session ends and the sign-in page says why, with no data shown. What
 * the API refuses or does not find renders one 404 page: PERMISSION_DENIED and NOT_FOUND look the
 * same, so a URL naming another namespace's task gives no hint that it exists.
 */
import { status } from '@grpc/grpc-js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { RpcError, type GrpcTransport } from '../grpc/index.js';
import { html, type Html } from './html.js';
import { page, type Viewer } from './layout.js';
import { endSession, readSession, sameOrigin, sameText, type Session } from './session.js';
import { userApi, whoAmI, type UserApi } from './user-api.js';

export interface SignedIn extends Viewer {
  readonly api: UserApi;
  readonly session: Session;
}

/** A page that cannot be shown, with the status and the words to say. */
export class PageError extends Error {
  constructor(
    readonly statusCode: 400 | 403 | 404 | 413,
    readonly title: string,
    message: string,
  ) {
    super(message);
  }
}

/** The request's query parameters, each given at most once: a repeated one is a 400 naming it. */
export function singleQuery(request: FastifyRequest): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(request.query as Record<string, unknown>)) {
    if (typeof value !== 'string') throw new PageError(400, 'Bad request', `${name} is given more than once`);
    out[name] = value;
  }
  return out;
}

/** NOT_FOUND and PERMISSION_DENIED of a read become one 404 naming what the URL asked for. */
export async function orNotFound<T>(call: Promise<T>, what: string): Promise<T> {
  try {
    return await call;
  } catch (err) {
    if (err instanceof RpcError && (err.code === status.NOT_FOUND || err.code === status.PERMISSION_DENIED))
      throw new PageError(404, 'Not found', `${what} was not found, or your token does not cover it.`);
    throw err;
  }
}

export type UserPage = (request: FastifyRequest, reply: FastifyReply, user: SignedIn) => Promise<Html | undefined>;

export function signedIn(transport: GrpcTransport, handler: UserPage) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const session = readSession(request);
    if (session === undefined) return void reply.redirect(`/sign-in?next=${encodeURIComponent(request.url)}`, 303);
    const api = userApi(transport, session.token);
    let viewer: Viewer | undefined;
    try {
      const caller = await whoAmI(api);
      viewer = { caller, csrf: session.csrf };
      const body = await handler(request, reply, { ...viewer, api, session });
      if (body !== undefined) void reply.type('text/html; charset=utf-8').send(body.text);
    } catch (err) {
      if (err instanceof RpcError && err.code === status.UNAUTHENTICATED) {
        endSession(request, reply);
        return void reply.redirect('/sign-in?refused=1', 303);
      }
      if (err instanceof RpcError && err.code === status.PERMISSION_DENIED && viewer === undefined) {
        // a worker token: it opens the worker protocol only
        endSession(request, reply);
        return void reply.redirect('/sign-in?refused=1', 303);
      }
      sendError(request, reply, viewer, err);
    }
  };
}

function sendError(request: FastifyRequest, reply: FastifyReply, viewer: Viewer | undefined, err: unknown): void {
  let error: PageError;
  if (err instanceof PageError) error = err;
  else if (err instanceof RpcError && (err.code === status.INVALID_ARGUMENT || err.code === status.OUT_OF_RANGE))
    error = new PageError(400, 'Bad request', err.message);
  else if (err instanceof RpcError && err.code === status.RESOURCE_EXHAUSTED) error = new PageError(413, 'Too large', err.message);
  else if (err instanceof RpcError && (err.code === status.NOT_FOUND || err.code === status.PERMISSION_DENIED))
    error = new PageError(404, 'Not found', 'What this page names was not found, or your token does not cover it.');
  else {
    request.log.error({ err, url: request.url }, 'console page failed');
    void reply
      .code(500)
      .type('text/html; charset=utf-8')
      .send(
        page('Something went wrong', viewer, html`<p class="error">The server could not build this page; the error is in its log.</p>`)
          .text,
      );
    return;
  }
  void reply
    .code(error.statusCode)
    .type('text/html; charset=utf-8')
    .send(
      page(
        error.title,
        viewer,
        html`<p class="error">${error.message}</p>
          <p><a href="/">Back to the tasks</a></p>`,
      ).text,
    );
}

/** A signed-in POST must come from this origin and carry the session's CSRF token; otherwise 403 and nothing runs. */
export function checkForm(request: FastifyRequest, user: SignedIn): Record<string, unknown> {
  const body = (request.body ?? {}) as Record<string, unknown>;
  if (!sameOrigin(request) || !sameText(user.session.csrf, body.csrf))
    throw new PageError(403, 'Refused', 'The form carried no valid CSRF token or came from another site; nothing was changed.');
  return body;
}
