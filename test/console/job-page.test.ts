import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, type TestBrowser } from './support/chromium.js';
import { signedInUser } from './support/browser-user.js';
import { startConsoleServer, type ConsoleServer } from './support/console-server.js';
import { screenshot } from './support/screenshots.js';
import { JOB_TASK, seedScenario, submitJob } from './support/seed.js';

// (in-page code is passed as text: the project compiles without TypeScript's DOM library)
/** Points drawn in each curve of the job page's chart: one "M"/"L" command per point of a path's d. */
const POINTS_IN_PATHS = `Array.from(document.querySelectorAll('#loss-curves path.curve')).map((p) => ((p.getAttribute('d') ?? '').match(/[ML]/g) ?? []).length)`;

/** A real two-trial sweep on the embedded server's in-process workers, watched live in the browser. */
describe('console job page (browser, embedded server, real training)', () => {
  let server: ConsoleServer;
  let chromium: TestBrowser;

  beforeAll(async () => {
    [server, chromium] = await Promise.all([startConsoleServer({ workers: 2 }), launchChromium()]);
    await seedScenario(server);
  });
  afterAll(async () => {
    await chromium?.close();
    await server?.close();
  });

  it("a running job's loss curves grow on the open page, without navigation, until the job ends", async () => {
    // signed in before the job starts: training then shares the two cores with everything else
    const { page, problems } = await signedInUser(chromium, server.url, server.tokens.trainer);
    // long enough to be watched for several progress reports; the test cancels it once seen growing
    const job = await submitJob(server, { steps: 5000, learningRates: [0.02, 0.1] });
    const cancel = (): Promise<unknown> => server.client('trainer').training.cancelJob({ jobId: job.id, reason: 'seen growing' });
    try {
      await page.goto(`${server.url}/jobs/${job.id}`);
      await page.evaluate('window.loadedOnce = true');
      const points = async (): Promise<number[]> => page.evaluate<number[]>(POINTS_IN_PATHS);

      // both trials run at once (two workers): wait for both curves, then for both to grow
      const least = async (): Promise<number> => Math.min(...(await points()));
      await expect.poll(least, { timeout: 90_000, interval: 200 }).toBeGreaterThan(1);
      const first = await points();
      expect(first).toHaveLength(2);
      await expect.poll(async () => (await points()).every((n, i) => n > first[i]!), { timeout: 60_000, interval: 200 }).toBe(true);
      const later = await points();
      expect(await page.locator('#job-state').innerText()).toBe('running');
      for (const progress of await page.locator('tr[data-trial] td.progress').allInnerTexts()) expect(progress).toMatch(/^\d+\/5000$/);
      // the job's progress line follows the trials' live steps: one synchronous read of both in the page
      const snapshot = (await page.evaluate(`({
        header: document.getElementById('job-progress').textContent,
        done: [...document.querySelectorAll('tr[data-trial] td.progress')].reduce((sum, c) => sum + Number(c.dataset.value), 0),
      })`)) as { header: string; done: number };
      expect(snapshot.done).toBeGreaterThan(0);
      expect(snapshot.header).toContain(`(${snapshot.done}/10000 steps)`);
      // the same document all along: the marker set after load survived (no reload), the URL is unchanged
      expect(await page.evaluate('window.loadedOnce')).toBe(true);
      expect(new URL(page.url()).pathname).toBe(`/jobs/${job.id}`);

      const shot = await screenshot(chromium.browser, page, 'job-running');
      expect(shot.stats.lumaStdDev).toBeGreaterThan(10);
      expect(shot.stats.colours).toBeGreaterThan(8);
      expect(shot.text).toContain(JOB_TASK);
      expect(shot.text).toContain('Loss curves');

      await cancel();
      await expect.poll(() => page.locator('#job-state').innerText(), { timeout: 30_000 }).toBe('cancelled');
      await expect.poll(() => page.locator('#curves-status').innerText(), { timeout: 10_000 }).toMatch(/finished/);
      (await points()).forEach((n, i) => expect(n).toBeGreaterThanOrEqual(later[i]!));
      expect(problems).toEqual([]);
    } finally {
      await cancel().catch(() => undefined); // already cancelled, or the test failed before it did
    }
  }, 300_000); // real training on a shared 2-core machine: the first steps can take a while to come

  it('the jobs page lists the job with its state and a link to it', async () => {
    const { page, problems } = await signedInUser(chromium, server.url, server.tokens.reader);
    await page.click('nav a[href="/jobs"]');
    await page.waitForURL(`${server.url}/jobs`);
    const row = page.locator('table.jobs tbody tr').first();
    // the cancel above may still be settling: the list is a server-rendered snapshot, so reload until it shows
    await expect
      .poll(async () => {
        await page.reload();
        return row.innerText();
      })
      .toMatch(/cancelled/);
    expect(await row.innerText()).toContain(`acme/${JOB_TASK}`);
    await Promise.all([page.waitForNavigation(), row.locator('a').first().click()]);
    expect(new URL(page.url()).pathname).toMatch(/^\/jobs\/[0-9a-f-]{36}$/);
    expect(problems).toEqual([]);
  });
});
