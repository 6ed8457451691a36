import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchChromium, type TestBrowser } from './support/chromium.js';
import { signedInUser, type BrowserUser } from './support/browser-user.js';
import { NAMESPACE, OTHER_NAMESPACE, startConsoleServer, type ConsoleServer } from './support/console-server.js';
import { screenshot, type Screenshot } from './support/screenshots.js';
import { HOSTILE, MODEL, SECRET_TASK, TASK, seedScenario, type Scenario } from './support/seed.js';

const versionsIn = async (page: Page): Promise<number[]> =>
  (await page.locator('table.versions tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-version')))).map(Number);

/** A screenshot that shows a real page: it decodes, it is not blank, and the page said what it should. */
async function sane(chromium: TestBrowser, page: Page, name: string, texts: readonly string[]): Promise<Screenshot> {
  const shot = await screenshot(chromium.browser, page, name);
  expect(shot.stats.width).toBe(1280);
  expect(shot.stats.height).toBeGreaterThanOrEqual(900);
  expect(shot.stats.lumaStdDev).toBeGreaterThan(10);
  expect(shot.stats.colours).toBeGreaterThan(8);
  for (const text of texts) expect(shot.text).toContain(text);
  return shot;
}

/** Every page a reader opens, in a real browser, with screenshots of the main ones (test/console/output/). */
describe('console pages (browser, embedded server)', () => {
  let server: ConsoleServer;
  let chromium: TestBrowser;
  let scenario: Scenario;
  let reader: BrowserUser;
  const taskUrl = (): string => `${server.url}/tasks/${NAMESPACE}/${TASK}`;

  beforeAll(async () => {
    [server, chromium] = await Promise.all([startConsoleServer({ workers: 0 }), launchChromium()]);
    scenario = await seedScenario(server);
    reader = await signedInUser(chromium, server.url, server.tokens.reader);
  });
  afterAll(async () => {
    await chromium?.close();
    await server?.close();
  });

  it('the tasks page links each task to its versions', async () => {
    const { page } = reader;
    await page.goto(`${server.url}/`);
    await sane(chromium, page, 'tasks', ['Namespaces and tasks', `Namespace ${NAMESPACE}`, TASK, 'production → v2']);
    await Promise.all([page.waitForNavigation(), page.click(`table.tasks a:text-is("${TASK}")`)]);
    expect(page.url()).toBe(taskUrl());
    expect(reader.problems.splice(0)).toEqual([]);
  });

  it("a task's versions: newest first, then sorted by a metric by clicking its column both ways", async () => {
    const { page } = reader;
    await page.goto(taskUrl());
    expect(await page.locator('main h1').innerText()).toBe(`Task ${NAMESPACE}/${TASK}`);
    expect(await versionsIn(page)).toEqual([3, 2, 1]);
    const row = await page.locator('table.versions tr[data-version="2"]').innerText();
    for (const text of ['production', 'prompt tuning', MODEL, '1.8000', 'learning_rate=0.1', 'pushed']) expect(row).toContain(text);
    await Promise.all([page.waitForNavigation(), page.click('table.versions th a.sort:text("eval_loss")')]);
    expect(Object.fromEntries(new URL(page.url()).searchParams)).toEqual({ sort: 'metric:eval_loss', dir: 'asc' });
    expect(await versionsIn(page)).toEqual([2, 3, 1]);
    await Promise.all([page.waitForNavigation(), page.click('table.versions th a.sort:text("eval_loss")')]);
    expect(await versionsIn(page)).toEqual([1, 3, 2]);
    await sane(chromium, page, 'task-versions', [`Task ${NAMESPACE}/${TASK}`, 'eval_accuracy', 'hyperparameters']);
    expect(reader.problems.splice(0)).toEqual([]);
  });

  it('more versions than a page: "Next page" follows the sort order, "First page" goes back', async () => {
    const admin = server.client('admin');
    const task = { namespace: NAMESPACE, name: 'paged' };
    await admin.registry.createTask({ task });
    const { safetensors } = await admin.registry.getPrompt({
      prompt: { task: { namespace: NAMESPACE, name: TASK }, selector: { case: 'version', value: 1 } },
    });
    // 60 versions whose eval_loss falls as the version rises: ascending loss is newest first
    for (let n = 1; n <= 60; n++)
      await admin.registry.createPromptVersion({
        spec: { task, baseModel: MODEL, metrics: { eval_loss: 10 - n / 10 } },
        payload: { case: 'safetensors', value: safetensors },
      });
    const { page } = reader;
    await page.goto(`${server.url}/tasks/${NAMESPACE}/paged?sort=metric:eval_loss&dir=asc`);
    const range = (from: number, to: number): number[] => Array.from({ length: from - to + 1 }, (_, i) => from - i);
    expect(await versionsIn(page)).toEqual(range(60, 11));
    await Promise.all([page.waitForNavigation(), page.click('a[rel="next"]')]);
    expect(await versionsIn(page)).toEqual(range(10, 1));
    expect(await page.locator('a[rel="next"]').count()).toBe(0);
    await Promise.all([page.waitForNavigation(), page.click('p.pager a:text("First page")')]);
    expect(await versionsIn(page)).toEqual(range(60, 11));
    expect(reader.problems.splice(0)).toEqual([]);
  });

  it('a version page: metadata, PEFT download, and the nearest vocabulary tokens of each virtual token', async () => {
    const { page } = reader;
    await page.goto(`${taskUrl()}/versions/1`);
    expect(await page.locator('main h1').innerText()).toBe(`${NAMESPACE}/${TASK} v1`);
    const metadata = await page.locator('table.metadata').innerText();
    for (const text of ['prompt tuning', '4 × 128', MODEL, 'eval_loss=2.5000', 'note=baseline', 'pushed directly (no job)'])
      expect(metadata).toContain(text);
    // version 1's rows are the embedding rows of these vocabulary tokens: each is its own nearest token
    const tokenRows = page.locator('table.tokens tbody tr');
    expect(await tokenRows.count()).toBe(scenario.promptTokens.length);
    for (const [i, token] of scenario.promptTokens.entries()) {
      const nearest = tokenRows.nth(i).locator('code').first();
      expect(await nearest.innerText()).toBe(token);
      expect(await tokenRows.nth(i).innerText()).toMatch(/1\.000/);
    }
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('a:text-is("adapter_config.json")')]);
    const config = JSON.parse(await readFile((await download.path())!, 'utf8')) as Record<string, unknown>;
    expect(config).toMatchObject({ peft_type: 'PROMPT_TUNING', num_virtual_tokens: 4, token_dim: 128 });
    await sane(chromium, page, 'version', [
      `${NAMESPACE}/${TASK} v1`,
      'What the prompt says',
      scenario.promptTokens[0]!,
      'adapter_model.safetensors',
    ]);
    expect(reader.problems.splice(0)).toEqual([]);
  });

  it('two versions side by side: settings, metric differences, hyperparameter diff, per-token similarity', async () => {
    const { page } = reader;
    await page.goto(taskUrl());
    await page.fill('form.compare input[name="a"]', '1');
    await page.fill('form.compare input[name="b"]', '2');
    await Promise.all([page.waitForNavigation(), page.click('form.compare button')]);
    expect(new URL(page.url()).pathname).toBe(`/tasks/${NAMESPACE}/${TASK}/compare`);
    const loss = await page.locator('table.compare-metrics tr', { hasText: 'eval_loss' }).innerText();
    expect(loss).toMatch(/2\.5000\s+1\.8000\s+-0\.7000/);
    const differing = await page.locator('table.compare-hyperparameters tr.diff').allInnerTexts();
    expect(differing.some((row) => row.startsWith('learning_rate'))).toBe(true);
    expect(differing.some((row) => row.includes(HOSTILE))).toBe(true); // v2's note, shown as text
    expect(await page.locator('main img, main script').count()).toBe(0);
    const similarity = page.locator('table.similarity tbody tr');
    expect(await similarity.count()).toBe(4);
    for (const row of await similarity.allInnerTexts()) {
      const cosine = Number(/(-?\d\.\d+)/.exec(row.split('\t')[1] ?? '')?.[1]);
      expect(cosine).toBeGreaterThan(0.9); // v2 is v1 plus a small shift
      expect(cosine).toBeLessThan(1);
    }
    await sane(chromium, page, 'compare', ['Metrics', 'Hyperparameters', 'Per-token similarity']);
    expect(reader.problems.splice(0)).toEqual([]);
  });

  it("another namespace's task is a 404 that reads exactly like a task that does not exist", async () => {
    const { page } = reader;
    const secret = await page.goto(`${server.url}/tasks/${OTHER_NAMESPACE}/${SECRET_TASK}`);
    const secretText = await page.locator('main').innerText();
    const missing = await page.goto(`${server.url}/tasks/${OTHER_NAMESPACE}/no-such-task`);
    const missingText = await page.locator('main').innerText();
    expect([secret?.status(), missing?.status()]).toEqual([404, 404]);
    expect(secretText.replace(SECRET_TASK, 'X')).toBe(missingText.replace('no-such-task', 'X'));
    expect(secretText).not.toContain('not for acme');
    const versionOfSecret = await page.goto(`${server.url}/tasks/${OTHER_NAMESPACE}/${SECRET_TASK}/versions/1`);
    expect(versionOfSecret?.status()).toBe(404);
  });

  it('a deleted version is a 404 page naming it', async () => {
    const admin = server.client('admin');
    const task = { namespace: NAMESPACE, name: TASK };
    const { safetensors } = await admin.registry.getPrompt({ prompt: { task, selector: { case: 'version', value: 1 } } });
    const { version } = await admin.registry.createPromptVersion({
      spec: { task, baseModel: MODEL },
      payload: { case: 'safetensors', value: safetensors },
    });
    await admin.registry.deletePromptVersion({ version: { task, version: version!.version } });
    const response = await reader.page.goto(`${taskUrl()}/versions/${version!.version}`);
    expect(response?.status()).toBe(404);
    expect(await reader.page.locator('main h1').innerText()).toBe('Not found');
    expect(await reader.page.locator('main').innerText()).toContain(`Version ${version!.version} of ${NAMESPACE}/${TASK}`);
  });
});
