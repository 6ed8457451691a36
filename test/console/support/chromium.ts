/**
 * Debian's Chromium (/usr/bin/chromium, installed by .ci/run) driven by playwright-core: no browser
 * download, headless, no network of its own. Each launch gets a fresh profile directory (playwright
 * creates a temporary --user-data-dir and removes it on close), and each signed-in user a fresh
 * context, so cookies never leak between roles.
 */
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.PTUNE_CHROMIUM ?? '/usr/bin/chromium';

/** Quiet, deterministic, offline: no GPU, QUIC, first-run UI, background fetches, updates or sync (headless: playwright's option). */
const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface TestBrowser {
  readonly browser: Browser;
  /** A new isolated context (own cookies) with one page, sized for screenshots. */
  newPage(): Promise<{ context: BrowserContext; page: Page }>;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<TestBrowser> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS, timeout: 60_000 });
  return {
    browser,
    async newPage() {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      // generous: the tests share two cores with real training and whatever else runs
      context.setDefaultTimeout(90_000);
      return { context, page: await context.newPage() };
    },
    async close() {
      await browser.close();
    },
  };
}
