/**
 * One person in the browser: an isolated context (own cookie jar) signed in through the console's
 * sign-in form. Everything that would mean a broken or unsafe page is collected in `problems`:
 * uncaught script errors, console errors (Chromium reports every Content-Security-Policy violation
 * there) and dialogs (an alert() only hostile markup that got executed could open).
 */
import type { BrowserContext, Page } from 'playwright-core';
import type { TestBrowser } from './chromium.js';

export interface BrowserUser {
  readonly context: BrowserContext;
  readonly page: Page;
  readonly problems: string[];
}

export async function openBrowserUser(chromium: TestBrowser): Promise<BrowserUser> {
  const { context, page } = await chromium.newPage();
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(`script error: ${err.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console error: ${message.text()} (${message.location().url})`);
  });
  page.on('dialog', (dialog) => {
    problems.push(`dialog: ${dialog.message()}`);
    void dialog.dismiss();
  });
  return { context, page, problems };
}

/** Fills the sign-in form with `token` and submits it; resolves once the next page has loaded. */
export async function signIn(user: BrowserUser, baseUrl: string, token: string, next = '/'): Promise<void> {
  await user.page.goto(`${baseUrl}/sign-in?next=${encodeURIComponent(next)}`);
  await user.page.fill('input[name="token"]', token);
  await Promise.all([user.page.waitForNavigation(), user.page.click('form.sign-in button[type="submit"]')]);
}

/** A new person signed in as `token`. */
export async function signedInUser(chromium: TestBrowser, baseUrl: string, token: string): Promise<BrowserUser> {
  const user = await openBrowserUser(chromium);
  await signIn(user, baseUrl, token);
  return user;
}
