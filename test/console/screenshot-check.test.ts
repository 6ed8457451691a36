import { readFile, rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, type TestBrowser } from './support/chromium.js';
import { screenshot } from './support/screenshots.js';

/** The screenshot check itself: it must tell a blank page from a drawn one, and read the PNG it wrote. */
describe('screenshot sanity check (Debian chromium through playwright-core)', () => {
  let chromium: TestBrowser;
  const written: string[] = [];
  beforeAll(async () => {
    chromium = await launchChromium();
  });
  afterAll(async () => {
    await chromium?.close();
    for (const file of written) await rm(file, { force: true });
  });

  it('a blank page has one colour and no luma spread', async () => {
    const { page } = await chromium.newPage();
    await page.setContent('<body style="margin:0;background:#fff"></body>');
    const shot = await screenshot(chromium.browser, page, 'check-blank');
    written.push(shot.file);
    expect(shot.stats).toMatchObject({ width: 1280, height: 900, colours: 1 });
    expect(shot.stats.lumaStdDev).toBeLessThan(0.01);
    expect(shot.text.trim()).toBe('');
  });

  it('a page with text and a coloured block is not blank, and its PNG on disk is the one decoded', async () => {
    const { page } = await chromium.newPage();
    await page.setContent('<h1>ptune console</h1><div style="width:400px;height:300px;background:#2563eb"></div>');
    const shot = await screenshot(chromium.browser, page, 'check-drawn');
    written.push(shot.file);
    expect(shot.stats.lumaStdDev).toBeGreaterThan(10);
    expect(shot.stats.colours).toBeGreaterThan(2);
    expect(shot.text).toContain('ptune console');
    const file = await readFile(shot.file);
    expect([...file.subarray(1, 4)].map((c) => String.fromCharCode(c)).join('')).toBe('PNG');
    expect(file.readUInt32BE(16)).toBe(shot.stats.width); // IHDR width
  });
});
