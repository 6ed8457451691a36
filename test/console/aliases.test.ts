import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { launchChromium, type TestBrowser } from './support/chromium.js';
import { signedInUser, type BrowserUser } from './support/browser-user.js';
import { NAMESPACE, startConsoleServer, type ConsoleServer, type Person } from './support/console-server.js';
import { TASK, seedScenario } from './support/seed.js';

const versionUrl = (server: ConsoleServer, version: number): string => `${server.url}/tasks/${NAMESPACE}/${TASK}/versions/${version}`;

/** The rows of an alias's history table on a version page, "from → to" each, newest first. */
async function historyOf(page: Page, alias: string): Promise<string[]> {
  const table = heading(page, alias).locator('xpath=following-sibling::table[contains(@class, "history")][1]');
  const rows = await table.locator('tbody tr').all();
  return Promise.all(
    rows.map(async (row) => {
      const [from, to] = await row.locator('td').allInnerTexts();
      return `${from} → ${to}`;
    }),
  );
}

function heading(page: Page, alias: string) {
  return page.locator('main h3', { hasText: new RegExp(`^${alias} →`) });
}

/**
 * Moving an alias from a version page, with the API's compare-and-swap and access rules: a trainer
 * moves it and sees the history grow; a reader gets the refusal page and nothing moves;
 * a form loaded before someone else's move says so and shows the new state. On the embedded
 * database and on a real Postgres server.
 */
describe.each(['embedded', 'postgres'] as const)('console alias moves (browser, %s database)', (database) => {
  let postgres: TestPostgres | undefined;
  let server: ConsoleServer;
  let chromium: TestBrowser;
  const person = async (who: Person, version: number): Promise<BrowserUser> => {
    const user = await signedInUser(chromium, server.url, server.tokens[who]);
    await user.page.goto(versionUrl(server, version));
    return user;
  };
  const production = async (): Promise<number> =>
    (await server.client('reader').registry.getTask({ task: { namespace: NAMESPACE, name: TASK } })).task!.aliases.production!;

  beforeAll(async () => {
    if (database === 'postgres') postgres = await startPostgres();
    const databaseUrl = postgres && (await postgres.newDatabase());
    [server, chromium] = await Promise.all([startConsoleServer({ workers: 0, databaseUrl }), launchChromium()]);
    await seedScenario(server);
  });
  afterAll(async () => {
    await chromium?.close();
    await server?.close();
    await postgres?.stop();
  });

  it('a trainer moves production to v1 from its page and sees the history change', async () => {
    const { page, problems } = await person('trainer', 1);
    expect(await heading(page, 'production').innerText()).toBe('production → v2');
    expect(await historyOf(page, 'production')).toEqual(['created → v2']);
    await page.fill('form.move-alias:has(input[name="alias"][value="production"]) input[name="reason"]', 'v1 reads better');
    await Promise.all([page.waitForNavigation(), page.click('button:text("Move production to v1")')]);
    expect(new URL(page.url()).search).toBe('?moved=production');
    expect(await page.locator('[role="status"]').innerText()).toBe('Alias production now points at v1.');
    expect(await heading(page, 'production').innerText()).toBe('production → v1');
    expect(await page.locator('main').innerText()).toContain('Points here.');
    expect(await historyOf(page, 'production')).toEqual(['v2 → v1', 'created → v2']);
    expect(await production()).toBe(1);
    expect(problems).toEqual([]);
  });

  it('a reader sees the refusal page and the alias does not move', async () => {
    const before = await production();
    const target = before === 3 ? 2 : 3;
    const { page, problems } = await person('reader', target);
    expect(await page.locator('main p.hint', { hasText: 'needs a trainer or admin token' }).count()).toBe(1);
    const response = await Promise.all([page.waitForNavigation(), page.click(`button:text("Move production to v${target}")`)]).then(
      ([r]) => r,
    );
    expect(response?.status()).toBe(403);
    expect(await page.locator('main h1').innerText()).toBe('Refused');
    expect(await page.locator('main').innerText()).toMatch(/may not move aliases of acme: that takes a trainer or admin token/);
    expect(await production()).toBe(before);
    expect(problems.filter((p) => !/status of 403/.test(p))).toEqual([]);
  });

  it('a move from a page loaded before someone else moved the alias says so and shows the new state', async () => {
    const before = await production();
    const [mine, theirs] = [before === 2 ? 3 : 2, before === 2 ? 1 : before === 1 ? 3 : 1];
    const late = await person('trainer', mine); // its form expects `before`
    const early = await person('admin', theirs);
    await Promise.all([early.page.waitForNavigation(), early.page.click(`button:text("Move production to v${theirs}")`)]);
    expect(await production()).toBe(theirs);

    const response = await Promise.all([late.page.waitForNavigation(), late.page.click(`button:text("Move production to v${mine}")`)]).then(
      ([r]) => r,
    );
    expect(response?.status()).toBe(409);
    const text = await late.page.locator('main').innerText();
    // named by its token (the admin moved it first)
    expect(text).toMatch(new RegExp(`token:\\S+ moved production first: it now points at v${theirs}\\.`));
    expect(await heading(late.page, 'production').innerText()).toBe(`production → v${theirs}`);
    expect((await historyOf(late.page, 'production'))[0]).toBe(`v${before} → v${theirs}`);
    expect(await production()).toBe(theirs);
    expect(late.problems.filter((p) => !/status of 409/.test(p))).toEqual([]);
  });
});
