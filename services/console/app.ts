/**
 * The console's routes on the server's HTTP port (everything under / except /v1, which the
 * OpenAI-compatible endpoint owns). Registered as one encapsulated Fastify plug-in: its cookie and
 * form parsers and its security headers apply to these routes only.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyCookie from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { GrpcTransport } from '../grpc/index.js';
import { SECURITY_HEADERS } from './security-headers.js';
import type { Html } from './html.js';
import { signedIn, singleQuery, type SignedIn, type UserPage } from './signed-in.js';
import { showSignIn, signIn, signOut } from './pages/sign-in.js';
import { homePage } from './pages/home.js';
import { modelsPage } from './pages/models.js';
import { taskPage, type TaskParams } from './pages/task.js';
import { moveAlias, peftFile, versionPage, type PromptReading, type VersionParams } from './pages/version.js';
import { comparePage } from './pages/compare.js';
import { jobPage, jobsPage } from './pages/jobs.js';
import { relayJobEvents } from './job-events.js';

export interface ConsoleRoutesOptions {
  /** The channel to this process's gRPC server (no token: each call carries the user's). */
  readonly transport: GrpcTransport;
  /** The version page's "what the prompt says" section. */
  readonly reading: PromptReading;
}

/** The static files, read once: the console's only script and stylesheet (docs/console.md says why no framework). */
const ASSETS: ReadonlyMap<string, { type: string; body: Buffer }> = new Map(
  [
    ['console.js', 'text/javascript; charset=utf-8'],
    ['console.css', 'text/css; charset=utf-8'],
  ].map(([name, type]) => [name!, { type: type!, body: readFileSync(assetPath(name!)) }]),
);

/**
 * services/console/assets/<name> of the checkout or image this code runs from: found walking up from
 * this module, which sits in services/console under tsx and in dist/services/console when built (tsc
 * does not copy the assets; the image copies them beside dist/).
 */
function assetPath(name: string): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (let dir = here; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'services', 'console', 'assets', name);
    if (existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) throw new Error(`console asset ${name}: no services/console/assets/${name} above ${here}`);
  }
}

export async function registerConsole(app: FastifyInstance, options: ConsoleRoutesOptions): Promise<void> {
  const { transport, reading } = options;
  await app.register(fastifyCookie);
  await app.register(fastifyFormbody, { bodyLimit: 64 * 1024 });
  app.addHook('onSend', async (_request, reply) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) if (!reply.hasHeader(name)) void reply.header(name, value);
  });

  app.get('/assets/:name', (request: FastifyRequest<{ Params: { name: string } }>, reply: FastifyReply) => {
    const asset = ASSETS.get(request.params.name);
    if (asset === undefined) return reply.code(404).type('text/plain; charset=utf-8').send('no such asset');
    return reply.header('cache-control', 'public, max-age=300').type(asset.type).send(asset.body);
  });
  // browsers ask every site for /favicon.ico: "no icon" instead of a 404 that each page's console would log
  app.get('/favicon.ico', (_request, reply) => reply.code(204).send());
  app.get('/sign-in', showSignIn);
  app.post('/sign-in', signIn(transport));
  app.post('/sign-out', signOut);

  const page = <P>(handler: (request: FastifyRequest<{ Params: P }>, reply: FastifyReply, user: SignedIn) => Promise<Html | undefined>) =>
    signedIn(transport, handler as UserPage);
  app.get(
    '/',
    page((_request, _reply, user) => homePage(user)),
  );
  app.get(
    '/models',
    page((_request, _reply, user) => modelsPage(user)),
  );
  app.get(
    '/jobs',
    page((request, _reply, user) => jobsPage(request, user)),
  );
  app.get(
    '/jobs/:id',
    page<{ id: string }>((request, _reply, user) => jobPage(request, user)),
  );
  app.get('/jobs/:id/events', page<{ id: string }>(relayJobEvents));
  app.get(
    '/tasks/:namespace/:task',
    page<TaskParams>((request, _reply, user) => taskPage(request, user)),
  );
  app.get(
    '/tasks/:namespace/:task/compare',
    page<TaskParams>((request, _reply, user) => comparePage(request, user)),
  );
  app.get(
    '/tasks/:namespace/:task/versions/:version',
    page<VersionParams>((request, _reply, user) => versionPage(request.params, singleQuery(request).moved, user, reading)),
  );
  app.get('/tasks/:namespace/:task/versions/:version/peft/:file', page<VersionParams & { file: string }>(peftFile));
  app.post(
    '/tasks/:namespace/:task/aliases',
    page<TaskParams>((request, reply, user) => moveAlias(request, reply, user, reading)),
  );
}
