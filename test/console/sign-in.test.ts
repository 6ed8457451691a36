import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, type TestBrowser } from './support/chromium.js';
import { openBrowserUser, signIn, signedInUser, type BrowserUser } from './support/browser-user.js';
import { NAMESPACE, OTHER_NAMESPACE, startConsoleServer, type ConsoleServer } from './support/console-server.js';
import { HOSTILE, MODEL, SECRET_TASK, TASK, seedScenario } from './support/seed.js';

/** Signing in and out in a real browser, what each token sees, and what a refused token gets. */
describe('console sign-in (browser, embedded server)', () => {
  let server: ConsoleServer;
  let chromium: TestBrowser;
  const users: BrowserUser[] = [];
  const person = async (token: string): Promise<BrowserUser> => {
    const user = await signedInUser(chromium, server.url, token);
    users.push(user);
    return user;
  };

  beforeAll(async () => {
    [server, chromium] = await Promise.all([startConsoleServer({ workers: 0 }), launchChromium()]);
    await seedScenario(server);
  });
  afterAll(async () => {
    await chromium?.close();
    await server?.close();
  });

  it('a reader signs in and sees its namespace: tasks, aliases → versions, best eval_loss; hostile text stays text', async () => {
    const { page, context, problems } = await person(server.tokens.reader);
    expect(new URL(page.url()).pathname).toBe('/');
    const body = await page.innerText('main');
    expect(body).toContain(`Namespace ${NAMESPACE}`);
    expect(body).not.toContain(OTHER_NAMESPACE);
    const row = page.locator('table.tasks tr', { hasText: TASK });
    await expect.poll(() => row.innerText()).toMatch(/production → v2/);
    expect(await row.innerText()).toMatch(/staging → v3/);
    expect(await row.innerText()).toMatch(/\b1\.80*\s*\(v2\)/); // best eval_loss is version 2's
    // the description's markup is shown as characters, not parsed: no <script> or <img> came from it
    expect(await row.innerText()).toContain(HOSTILE);
    expect(await page.locator('main script, main img').count()).toBe(0);
    expect(await page.locator('header .who').innerText()).toContain(`reader of ${NAMESPACE}`);
    // the session cookie: HttpOnly, SameSite=Strict, for the whole site
    const cookies = await context.cookies(server.url);
    expect(cookies.length).toBeGreaterThan(0);
    for (const cookie of cookies) expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });
    expect(await page.evaluate('document.cookie')).toBe(''); // in-page code as text: no DOM library in the project's types
    expect(problems).toEqual([]);
  });

  it('the base models page lists the registered model', async () => {
    const { page, problems } = await person(server.tokens.reader);
    await page.click('nav a[href="/models"]');
    await page.waitForURL(`${server.url}/models`);
    const row = page.locator('table.models tr', { hasText: MODEL });
    expect(await row.innerText()).toMatch(/llama\s+128\s+4\s+8\/4\s+1024\s+512/);
    expect(problems).toEqual([]);
  });

  it("another namespace's reader sees only its own namespace", async () => {
    const { page, problems } = await person(server.tokens.stranger);
    const body = await page.innerText('main');
    expect(body).toContain(`Namespace ${OTHER_NAMESPACE}`);
    expect(body).toContain(SECRET_TASK);
    expect(body).not.toContain(TASK);
    expect(body).not.toContain(NAMESPACE + ' ');
    expect(problems).toEqual([]);
  });

  it('a bad token stays on the sign-in page with the reason and no data', async () => {
    const user = await openBrowserUser(chromium);
    users.push(user);
    await signIn(user, server.url, 'ptk_not-a-real-token');
    expect(new URL(user.page.url()).pathname).toBe('/sign-in');
    expect(await user.page.locator('[role="alert"]').innerText()).toMatch(/refused/i);
    const body = await user.page.innerText('body');
    for (const hidden of [TASK, NAMESPACE, MODEL]) expect(body).not.toContain(hidden);
    expect(await user.context.cookies(server.url)).toEqual(
      expect.not.arrayContaining([expect.objectContaining({ httpOnly: true, value: expect.stringMatching(/ptk_/) })]),
    );
  });

  it('a token revoked after sign-in sends the next page back to sign-in, showing nothing', async () => {
    const minted = await server.mintToken(NAMESPACE, 'reader');
    const { page } = await person(minted.text);
    expect(await page.innerText('main')).toContain(TASK);
    await minted.revoke();
    await page.goto(`${server.url}/models`);
    expect(new URL(page.url()).pathname).toBe('/sign-in');
    expect(await page.locator('[role="alert"]').innerText()).toMatch(/refused/i);
    const body = await page.innerText('body');
    for (const hidden of [TASK, MODEL]) expect(body).not.toContain(hidden);
  });

  it('signing out ends the session: the tasks page asks for a token again', async () => {
    const { page, problems } = await person(server.tokens.admin);
    await Promise.all([page.waitForNavigation(), page.click('form.sign-out button[type="submit"]')]);
    expect(new URL(page.url()).pathname).toBe('/sign-in');
    await page.goto(`${server.url}/`);
    expect(new URL(page.url()).pathname).toBe('/sign-in');
    expect(await page.innerText('body')).not.toContain(TASK);
    expect(problems).toEqual([]);
  });

  it('pages carry the CSP and the browser enforces it: the console script runs, injected inline script does not', async () => {
    const { page, problems } = await person(server.tokens.reader);
    const response = await page.goto(`${server.url}/`);
    expect(response?.headers()['content-security-policy']).toMatch(/script-src 'self'(;|$)/);
    // inline script added to the page is blocked by the policy (Chromium reports the violation)
    const ran = await page.evaluate(`(() => {
      const script = document.createElement('script');
      script.textContent = 'window.inlineRan = true';
      document.body.append(script);
      return window.inlineRan === true;
    })()`);
    expect(ran).toBe(false);
    expect(problems.some((p) => /Content Security Policy/i.test(p))).toBe(true);
  });
});
