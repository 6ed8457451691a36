/**
 * The console over real HTTP against a real all-in-one server (gRPC, access control, PGlite):
 * sign-in and its refusals, the security headers, CSRF and Origin checks, pages as each person
 * sees them, escaping of hostile names, and the 404 that hides another namespace's task.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConsoleServer, type ConsoleServer } from '../../test/console/support/console-server.js';
import { HOSTILE, MODEL, seedScenario, SECRET_TASK, TASK } from '../../test/console/support/seed.js';
import { HttpSession } from './testing/http-session.js';

let env: ConsoleServer;

beforeAll(async () => {
  env = await startConsoleServer({ workers: 0 });
  await seedScenario(env);
}, 180_000);
afterAll(() => env?.close());

async function signedIn(person: keyof ConsoleServer['tokens']): Promise<HttpSession> {
  const session = new HttpSession(env.url);
  const reply = await session.signIn(env.tokens[person]);
  expect(reply.status).toBe(303);
  return session;
}

describe('sign-in', () => {
  it('sends a visitor without a session to the sign-in page, showing no data', async () => {
    const session = new HttpSession(env.url);
    const home = await session.get('/');
    expect(home.status).toBe(303);
    expect(home.location).toBe('/sign-in?next=%2F');
    const form = await session.get('/sign-in');
    expect(form.text).toContain('name="token"');
    expect(form.text).not.toContain(TASK);
  });

  it('keeps a good token in an HttpOnly, SameSite=Strict, Path=/ cookie and lands on the page asked for', async () => {
    const session = new HttpSession(env.url);
    const reply = await session.signIn(env.tokens.reader, '/models');
    expect(reply.status).toBe(303);
    expect(reply.location).toBe('/models');
    const cookie = reply.headers.getSetCookie().find((c) => c.startsWith('ptune_session='))!;
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
    expect(cookie).toMatch(/Path=\//);
    expect(cookie).not.toMatch(/Secure/i); // plain HTTP here
    const models = await session.get('/models');
    expect(models.status).toBe(200);
    expect(models.text).toContain(MODEL);
  });

  it('refuses a bad token with the form again and no session', async () => {
    const session = new HttpSession(env.url);
    const reply = await session.signIn('ptk_aaaaaaaaaaaa_notarealsecretatall');
    expect(reply.status).toBe(401);
    expect(reply.text).toContain('The API refused that token');
    expect(session.cookie('ptune_session')).toBeUndefined();
    expect((await session.get('/')).status).toBe(303);
  });

  it('ends the session of a revoked token: back to sign-in, no data shown', async () => {
    const token = await env.mintToken('acme', 'reader');
    const session = new HttpSession(env.url);
    expect((await session.signIn(token.text)).status).toBe(303);
    expect((await session.get('/')).text).toContain(TASK);
    await token.revoke();
    const after = await session.get('/');
    expect(after.status).toBe(303);
    expect(after.location).toBe('/sign-in?refused=1');
    expect(after.text).not.toContain(TASK);
    expect(session.cookie('ptune_session')).toBeUndefined();
    expect((await session.get('/sign-in?refused=1')).text).toContain('The API refused your token');
  });

  it('never redirects off the server after sign-in', async () => {
    const session = new HttpSession(env.url);
    const reply = await session.signIn(env.tokens.reader, '//evil.example/');
    expect(reply.location).toBe('/');
  });

  it('refuses a sign-in form without its CSRF token or from another origin', async () => {
    const session = new HttpSession(env.url);
    const form = await session.get('/sign-in');
    const csrf = HttpSession.field(form.text, 'csrf');
    expect((await session.post('/sign-in', { token: env.tokens.admin, csrf: 'forged' })).status).toBe(403);
    expect((await session.post('/sign-in', { token: env.tokens.admin, csrf }, { origin: 'http://evil.example' })).status).toBe(403);
    expect((await session.post('/sign-in', { token: env.tokens.admin, csrf }, { origin: null })).status).toBe(403);
    expect(session.cookie('ptune_session')).toBeUndefined();
  });

  it('signs out only with the session CSRF token', async () => {
    const session = await signedIn('reader');
    expect((await session.post('/sign-out', {})).status).toBe(403);
    const home = await session.get('/');
    const out = await session.post('/sign-out', { csrf: HttpSession.field(home.text, 'csrf') });
    expect(out.status).toBe(303);
    expect((await session.get('/')).status).toBe(303);
  });
});

describe('headers', () => {
  it('sends a CSP without inline script, frame-ancestors none, base-uri none, form-action self, and nosniff', async () => {
    const session = await signedIn('reader');
    for (const path of ['/', '/sign-in', '/models']) {
      const reply = await session.get(path);
      const csp = reply.headers.get('content-security-policy')!;
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain('unsafe-inline');
      expect(csp).not.toContain('unsafe-eval');
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("base-uri 'none'");
      expect(csp).toContain("form-action 'self'");
      expect(reply.headers.get('x-content-type-options')).toBe('nosniff');
      expect(reply.text).not.toMatch(/<script(?![^>]*\bsrc=)/); // no inline script element
    }
  });

  it('serves the console script and stylesheet as files', async () => {
    const session = new HttpSession(env.url);
    const script = await session.get('/assets/console.js');
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect((await session.get('/assets/console.css')).headers.get('content-type')).toMatch(/^text\/css/);
    expect((await session.get('/assets/nope.js')).status).toBe(404);
  });
});

describe('tasks page', () => {
  it('shows a namespace reader its tasks with aliases, latest and best eval_loss, escaping hostile text', async () => {
    const page = (await (await signedIn('reader')).get('/')).text;
    expect(page).toContain('Namespace acme');
    expect(page).toContain(`/tasks/acme/${TASK}`);
    expect(page).toMatch(/production → <a href="\/tasks\/acme\/support-replies\/versions\/2">v2<\/a>/);
    expect(page).toContain('1.8000'); // best eval_loss, version 2
    expect(page).not.toContain(HOSTILE);
    expect(page).toContain('&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;');
    expect(page).not.toContain(SECRET_TASK);
  });

  it('shows an every-namespace admin both namespaces', async () => {
    const page = (await (await signedIn('root')).get('/')).text;
    expect(page).toContain('Namespace acme');
    expect(page).toContain('Namespace globex');
    expect(page).toContain(SECRET_TASK);
  });
});
