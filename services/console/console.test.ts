/**
 * The console over real HTTP against a real all-in-one server (gRPC, access control, PGlite):
 * on embedded PGlite and on a real Postgres server: sign-in and its refusals, the security headers, CSRF and Origin checks, pages as each person
 * sees them, escaping of hostile names, and the 404 that hides another namespace's task.
 */
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type TestPostgres } from '../../test/support/postgres.js';
import { startConsoleServer, type ConsoleServer } from '../../test/console/support/console-server.js';
import { HOSTILE, JOB_TASK, MODEL, seedScenario, SECRET_TASK, submitJob, TASK, type Scenario } from '../../test/console/support/seed.js';
import { escapeHtml } from './html.js';
import { HttpSession } from './testing/http-session.js';

describe.each(['embedded PGlite', 'Postgres'] as const)('console on %s', (backend) => {
  let env: ConsoleServer;
  let scenario: Scenario;
  let postgres: TestPostgres | undefined;
  const TASK_URL = `/tasks/acme/${TASK}`;

  beforeAll(async () => {
    postgres = backend === 'Postgres' ? await startPostgres() : undefined;
    env = await startConsoleServer({ workers: 0, databaseUrl: await postgres?.newDatabase() });
    scenario = await seedScenario(env);
  }, 180_000);
  afterAll(async () => {
    await env?.close();
    await postgres?.stop();
  });

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
      // browsers drop tabs and newlines and read a backslash as a slash: each of these is //evil.example to them
      for (const next of ['/\t/evil.example/', '/\n/evil.example/', '/\\evil.example/', '/%2F/ok'.replace('%2F', '\\')]) {
        const again = await new HttpSession(env.url).signIn(env.tokens.reader, next);
        expect(again.location, JSON.stringify(next)).toBe('/');
      }
    });

    it('refuses a sign-in without a token addressed to a name other than loopback (DNS rebinding)', async () => {
      // what a page of evil.example, rebound to 127.0.0.1, sends: its own name as Host and Origin
      const port = new URL(env.url).port;
      const host = `evil.example:${port}`;
      const send = (
        method: 'GET' | 'POST',
        headers: Record<string, string>,
        body = '',
      ): Promise<{ status: number; text: string; cookie?: string }> =>
        new Promise((resolve, reject) => {
          const req = httpRequest({ host: '127.0.0.1', port, path: '/sign-in', method, headers: { host, ...headers } }, (res) => {
            let text = '';
            res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
            res.on('end', () =>
              resolve({ status: res.statusCode ?? 0, text, cookie: res.headers['set-cookie']?.map((c) => c.split(';')[0]).join('; ') }),
            );
          });
          req.on('error', reject).end(body);
        });
      const form = await send('GET', {});
      const csrf = HttpSession.field(form.text, 'csrf');
      const reply = await send(
        'POST',
        { origin: `http://${host}`, cookie: form.cookie ?? '', 'content-type': 'application/x-www-form-urlencoded' },
        new URLSearchParams({ token: '', next: '/', csrf }).toString(),
      );
      expect(reply.status).toBe(403);
      expect(reply.text).toContain('Signing in without a token works only at localhost');
    });

    it('answers a repeated query parameter with 400 naming it, not an error page', async () => {
      const session = await signedIn('reader');
      const reply = await session.get(`${TASK_URL}?sort=version&sort=created`);
      expect(reply.status).toBe(400);
      expect(reply.text).toContain('sort is given more than once');
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

  describe('versions page', () => {
    it('lists every version with method, virtual tokens, init, base model, metrics, hyperparameters, creator and lineage', async () => {
      const reply = await (await signedIn('reader')).get(TASK_URL);
      expect(reply.status).toBe(200);
      for (const text of ['prompt tuning', 'sample vocab', MODEL, 'eval_accuracy', 'learning_rate=0.3', 'pushed', 'Compare versions'])
        expect(reply.text).toContain(text);
      expect([...reply.text.matchAll(/<tr data-version="(\d+)">/g)].map((m) => m[1])).toEqual(['3', '2', '1']);
      expect(reply.text).toContain(escapeHtml(`note=${HOSTILE}`));
      expect(reply.text).not.toContain(HOSTILE);
    });

    it('sorts by a metric in the database, in either direction, and links the other direction', async () => {
      const session = await signedIn('reader');
      const order = async (query: string): Promise<string[]> =>
        [...(await session.get(`${TASK_URL}?${query}`)).text.matchAll(/<tr data-version="(\d+)">/g)].map((m) => m[1]!);
      expect(await order('sort=metric%3Aeval_loss&dir=asc')).toEqual(['2', '3', '1']);
      expect(await order('sort=metric%3Aeval_accuracy&dir=desc')).toEqual(['2', '3', '1']);
      expect(await order('sort=version&dir=asc')).toEqual(['1', '2', '3']);
      expect((await session.get(`${TASK_URL}?sort=metric%3Aeval_loss&dir=asc`)).text).toContain('sort=metric%3Aeval_loss&amp;dir=desc');
      expect((await session.get(`${TASK_URL}?sort=nonsense`)).status).toBe(400);
      expect((await session.get(`${TASK_URL}?page=garbage`)).status).toBe(400);
    });

    it('pages with the API cursor: a next link until the last page', async () => {
      const root = env.client('admin');
      const task = { namespace: 'acme', name: 'many-versions' };
      await root.registry.createTask({ task });
      const { versions } = await root.registry.listPromptVersions({ task: { namespace: 'acme', name: TASK }, pageSize: 1 });
      const bytes = (await root.registry.getPrompt({ prompt: { task: versions[0]!.task, selector: { case: 'version', value: 1 } } }))
        .safetensors;
      for (let i = 0; i < 51; i++)
        await root.registry.createPromptVersion({
          spec: { task, baseModel: MODEL, metrics: { eval_loss: i } },
          payload: { case: 'safetensors', value: bytes },
        });
      const session = await signedIn('reader');
      const first = await session.get('/tasks/acme/many-versions');
      expect([...first.text.matchAll(/<tr data-version=/g)]).toHaveLength(50);
      const next = /<a rel="next" href="([^"]+)"/.exec(first.text)![1]!.replaceAll('&amp;', '&');
      const second = await session.get(next);
      expect([...second.text.matchAll(/<tr data-version="(\d+)">/g)].map((m) => m[1])).toEqual(['1']);
      expect(second.text).not.toContain('rel="next"');
    });
  });

  describe('version page', () => {
    it('shows metadata, alias history, PEFT links and the nearest vocabulary tokens of each virtual token', async () => {
      const reply = await (await signedIn('reader')).get(`${TASK_URL}/versions/1`);
      expect(reply.status).toBe(200);
      expect(reply.text).toContain('What the prompt says');
      expect(reply.text).toContain('adapter_config.json');
      expect(reply.text).toMatch(/<h3>production → v2<\/h3>/);
      // version 1's virtual tokens are vocabulary rows: each one's nearest token is that token, cosine 1
      const rows = [...reply.text.matchAll(/<tr><td class="num">(\d+)<\/td><td><code title="id \d+">([^<]*)<\/code> ([0-9.]+)/g)];
      expect(rows.map((m) => m[2])).toEqual(scenario.promptTokens.map(escapeHtml));
      expect(rows.map((m) => m[3])).toEqual(scenario.promptTokens.map(() => '1.000'));
    });

    it('downloads the PEFT adapter files', async () => {
      const session = await signedIn('reader');
      const config = await session.get(`${TASK_URL}/versions/2/peft/adapter_config.json`);
      expect(config.status).toBe(200);
      expect(config.headers.get('content-disposition')).toContain('attachment');
      expect(JSON.parse(config.text).peft_type).toBe('PROMPT_TUNING');
      const model = await session.get(`${TASK_URL}/versions/2/peft/adapter_model.safetensors`);
      expect(model.status).toBe(200);
      expect(model.text).toContain('prompt_embeddings');
      expect((await session.get(`${TASK_URL}/versions/2/peft/other.bin`)).status).toBe(404);
    });

    it('renders a deleted version as a 404 naming it', async () => {
      const admin = env.client('admin');
      const bytes = (
        await admin.registry.getPrompt({ prompt: { task: { namespace: 'acme', name: TASK }, selector: { case: 'version', value: 1 } } })
      ).safetensors;
      const task = { namespace: 'acme', name: 'short-lived' };
      await admin.registry.createTask({ task });
      await admin.registry.createPromptVersion({ spec: { task, baseModel: MODEL }, payload: { case: 'safetensors', value: bytes } });
      await admin.registry.deletePromptVersion({ version: { task, version: 1 } });
      const reply = await (await signedIn('reader')).get('/tasks/acme/short-lived/versions/1');
      expect(reply.status).toBe(404);
      expect(reply.text).toContain('Version 1 of acme/short-lived');
    });
  });

  describe('another namespace', () => {
    it("answers a URL naming another namespace's task exactly like a task that does not exist", async () => {
      const session = await signedIn('reader');
      const hidden = await session.get(`/tasks/globex/${SECRET_TASK}`);
      const missing = await session.get(`/tasks/acme/${SECRET_TASK}`);
      expect(hidden.status).toBe(404);
      expect(missing.status).toBe(404);
      expect(hidden.text.replace('globex', 'acme')).toBe(missing.text);
      expect(hidden.text).not.toContain('not for acme');
      const version = await session.get(`/tasks/globex/${SECRET_TASK}/versions/1`);
      expect(version.status).toBe(404);
      expect((await session.get(`/tasks/globex/${SECRET_TASK}/versions/1/peft/adapter_config.json`)).status).toBe(404);
    });
  });

  describe('alias move', () => {
    async function moveForm(session: HttpSession, version: number, alias: string): Promise<Record<string, string>> {
      const page = (await session.get(`${TASK_URL}/versions/${version}`)).text;
      const form = page
        .split('<form class="move-alias"')
        .slice(1)
        .find((f) => f.includes(`name="alias" value="${alias}"`))!;
      return {
        csrf: HttpSession.field(form, 'csrf'),
        version: HttpSession.field(form, 'version'),
        expected: HttpSession.field(form, 'expected'),
        alias,
        reason: 'console test',
      };
    }

    it('refuses a reader with a 403 page and changes nothing', async () => {
      const session = await signedIn('reader');
      const form = await moveForm(session, 1, 'staging');
      const reply = await session.post(`/tasks/acme/${TASK}/aliases`, form);
      expect(reply.status).toBe(403);
      expect(reply.text).toContain('may not move aliases of acme: that takes a trainer or admin token.');
      const { task } = await env.client('admin').registry.getTask({ task: { namespace: 'acme', name: TASK } });
      expect(task!.aliases.staging).toBe(3);
    });

    it('refuses a form without the session CSRF token, or from another origin', async () => {
      const session = await signedIn('trainer');
      const form = await moveForm(session, 1, 'staging');
      expect((await session.post(`/tasks/acme/${TASK}/aliases`, { ...form, csrf: '' })).status).toBe(403);
      expect((await session.post(`/tasks/acme/${TASK}/aliases`, form, { origin: 'http://evil.example' })).status).toBe(403);
      const { task } = await env.client('admin').registry.getTask({ task: { namespace: 'acme', name: TASK } });
      expect(task!.aliases.staging).toBe(3);
    });

    it('moves an alias for a trainer (history grows), and a stale form says someone moved it first and shows the new state', async () => {
      const session = await signedIn('trainer');
      const stale = await moveForm(session, 2, 'staging');
      const form = await moveForm(session, 1, 'staging');
      const moved = await session.post(`/tasks/acme/${TASK}/aliases`, form);
      expect(moved.status).toBe(303);
      expect(moved.location).toBe(`${TASK_URL}/versions/1?moved=staging`);
      const after = await session.get(moved.location!);
      expect(after.text).toContain('Alias staging now points at v1.');
      // the notice is only shown when true: the query string is anybody's to write
      expect((await session.get(`${TASK_URL}/versions/2?moved=staging`)).text).not.toContain('now points at');
      expect(after.text).toMatch(/<h3>staging → v1<\/h3>/);
      expect(after.text).toMatch(/<tr><td>v3<\/td><td>v1<\/td>\s*<td>token:[^<]+<\/td><td>[^<]+<\/td><td>[^<]*<\/td><\/tr>/);

      const refused = await session.post(`/tasks/acme/${TASK}/aliases`, stale);
      expect(refused.status).toBe(409);
      expect(refused.text).toMatch(/token:[^ ]+ moved staging first: it now points at v1\./);
      expect(refused.text).toMatch(/<h3>staging → v1<\/h3>/);
      const { task } = await env.client('admin').registry.getTask({ task: { namespace: 'acme', name: TASK } });
      expect(task!.aliases.staging).toBe(1);
    });

    it('answers a move in another namespace with the 404 page', async () => {
      const session = await signedIn('admin');
      const form = await moveForm(session, 1, 'production');
      const reply = await session.post(`/tasks/globex/${SECRET_TASK}/aliases`, { ...form, version: '1', expected: '1' });
      expect(reply.status).toBe(404);
    });
  });

  describe('compare page', () => {
    it('puts two versions side by side: metric differences, hyperparameter differences, per-token similarity', async () => {
      const reply = await (await signedIn('reader')).get(`${TASK_URL}/compare?a=1&b=2`);
      expect(reply.status).toBe(200);
      expect(reply.text).toContain('-0.7000'); // eval_loss 1.8 − 2.5
      expect(reply.text).toMatch(/<tr class="diff"><td>learning_rate<\/td><td>0.03<\/td><td>0.1<\/td><\/tr>/);
      expect([...reply.text.matchAll(/<tr><td class="num">\d+<\/td><td class="num">(-?[0-9.]+)<\/td>/g)]).toHaveLength(4);
      expect((await (await signedIn('reader')).get(`${TASK_URL}/compare?a=1&b=x`)).status).toBe(400);
    });
  });

  describe('jobs', () => {
    it('lists jobs with state and progress, and a job page with its trials and the live-curve chart', async () => {
      const job = await submitJob(env, { steps: 2, learningRates: [0.1, 0.3] });
      const session = await signedIn('reader');
      const list = await session.get('/jobs');
      expect(list.status).toBe(200);
      expect(list.text).toContain(job.id);
      expect(list.text).toContain(`acme/${JOB_TASK}`);
      const page = await session.get(`/jobs/${job.id}`);
      expect(page.status).toBe(200);
      expect(page.text).toContain(`data-events="/jobs/${job.id}/events"`);
      expect([...page.text.matchAll(/<tr data-trial=/g)]).toHaveLength(2);
      expect(page.text).toContain('queued');
      expect((await (await signedIn('stranger')).get(`/jobs/${job.id}`)).status).toBe(404);
      expect((await session.get('/jobs?state=bogus')).status).toBe(400);
    });

    it("relays the job's events as server-sent events to the end, resuming after Last-Event-ID", async () => {
      const job = await submitJob(env, { steps: 2, learningRates: [0.1] });
      const session = await signedIn('reader');
      const cookie = `ptune_session=${session.cookie('ptune_session')}`;
      const response = await fetch(`${env.url}/jobs/${job.id}/events`, { headers: { cookie } });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
      expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
      const reader = response.body!.getReader();
      let text = '';
      while (!text.includes('"state":"queued"')) text += new TextDecoder().decode((await reader.read()).value);
      await env.client('trainer').training.cancelJob({ jobId: job.id, reason: 'test' });
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) text += new TextDecoder().decode(chunk.value);
      const events = [...text.matchAll(/id: (\d+)\nevent: (\w+)\ndata: (.*)\n\n/g)].map((m) => ({
        id: Number(m[1]),
        name: m[2],
        data: JSON.parse(m[3]!),
      }));
      expect(events[0]).toMatchObject({ id: 1, name: 'job', data: { state: 'queued' } });
      expect(events.at(-1)).toMatchObject({ name: 'job', data: { state: 'cancelled', reason: 'test' } });
      expect(text.endsWith('event: end\ndata: {}\n\n')).toBe(true);

      const resumed = await (await fetch(`${env.url}/jobs/${job.id}/events`, { headers: { cookie, 'last-event-id': '1' } })).text();
      expect(resumed).not.toContain('"state":"queued"');
      expect(resumed).toContain('"state":"cancelled"');
      // a reconnect after the last event still hears `end` (else EventSource reconnects forever)
      const last = events.at(-1)!.id;
      const past = await (await fetch(`${env.url}/jobs/${job.id}/events`, { headers: { cookie, 'last-event-id': String(last) } })).text();
      expect(past).not.toContain('"state"');
      expect(past.endsWith('event: end\ndata: {}\n\n')).toBe(true);
      const stranger = await signedIn('stranger');
      const refused = await fetch(`${env.url}/jobs/${job.id}/events`, {
        headers: { cookie: `ptune_session=${stranger.cookie('ptune_session')}` },
        redirect: 'manual',
      });
      expect(refused.status).toBe(404);
    });
  });
});
