/**
 * Screenshots of console pages, written under test/console/output/ (git-ignored) and checked for
 * sanity: the PNG decodes (Chromium's own decoder, on a blank page of the same browser, so no PNG
 * library is needed), it is not blank (luma spread and colour count), and the page's text holds what
 * it should.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';

export const OUTPUT_DIR = path.resolve(import.meta.dirname, '../output');

export interface PngStats {
  readonly width: number;
  readonly height: number;
  /** standard deviation of pixel luma (0..255): about 0 for a blank page */
  readonly lumaStdDev: number;
  /** distinct RGB colours among the pixels */
  readonly colours: number;
}

export interface Screenshot {
  readonly file: string;
  readonly stats: PngStats;
  /** the page's visible text when the screenshot was taken */
  readonly text: string;
}

/** Takes a full-page screenshot of `page` as `<name>.png` and decodes it in a fresh page of `browser`. */
export async function screenshot(browser: Browser, page: Page, name: string): Promise<Screenshot> {
  await mkdir(OUTPUT_DIR, { recursive: true });
  const file = path.join(OUTPUT_DIR, `${name}.png`);
  const png = await page.screenshot({ fullPage: true, type: 'png' });
  await writeFile(file, png);
  return { file, stats: await decodePng(browser, png), text: await page.innerText('body') };
}

/** The browser APIs the decoder uses (the project compiles without TypeScript's DOM library). */
interface BrowserDecoder {
  createImageBitmap(image: Blob): Promise<{ width: number; height: number }>;
  OffscreenCanvas: new (
    width: number,
    height: number,
  ) => {
    getContext(kind: '2d'): {
      drawImage(image: unknown, x: number, y: number): void;
      getImageData(x: number, y: number, width: number, height: number): { data: Uint8ClampedArray };
    };
  };
}

async function decodePng(browser: Browser, png: Buffer): Promise<PngStats> {
  const context = await browser.newContext();
  try {
    const blank = await context.newPage();
    return await blank.evaluate(async (base64: string): Promise<PngStats> => {
      const page = globalThis as unknown as BrowserDecoder;
      const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      const bitmap = await page.createImageBitmap(new Blob([bytes], { type: 'image/png' })); // rejects on a corrupt PNG
      const context2d = new page.OffscreenCanvas(bitmap.width, bitmap.height).getContext('2d');
      context2d.drawImage(bitmap, 0, 0);
      const { data } = context2d.getImageData(0, 0, bitmap.width, bitmap.height);
      let sum = 0;
      let sumSquares = 0;
      const colours = new Set<number>();
      for (let i = 0; i < data.length; i += 4) {
        const luma = 0.2126 * data[i] + 0.7152 * data[i + 1] + 0.0722 * data[i + 2];
        sum += luma;
        sumSquares += luma * luma;
        colours.add((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]);
      }
      const n = data.length / 4;
      const mean = sum / n;
      return {
        width: bitmap.width,
        height: bitmap.height,
        lumaStdDev: Math.sqrt(Math.max(0, sumSquares / n - mean * mean)),
        colours: colours.size,
      };
    }, png.toString('base64'));
  } finally {
    await context.close();
  }
}
