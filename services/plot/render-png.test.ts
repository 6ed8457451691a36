import { crc32, inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { renderLossCurvesPng, type LossSeries } from './index.js';
import { layoutLossChart } from './layout.js';
import { seriesColor } from './palette.js';
import { FIXED_6X13 } from './raster/fonts.js';

interface DecodedPng {
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;
  rgba: Uint8Array;
}

/** Reads an 8-bit RGBA PNG with filter type 0 rows, checking every chunk CRC and the pixel byte count. */
function decodePng(file: Uint8Array): DecodedPng {
  const bytes = Buffer.from(file);
  expect([...bytes.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const chunks: { type: string; data: Buffer }[] = [];
  for (let offset = 8; offset < bytes.length;) {
    const length = bytes.readUInt32BE(offset);
    const type = bytes.toString('latin1', offset + 4, offset + 8);
    const data = bytes.subarray(offset + 8, offset + 8 + length);
    expect(bytes.readUInt32BE(offset + 8 + length), `CRC of ${type}`).toBe(crc32(bytes.subarray(offset + 4, offset + 8 + length)));
    chunks.push({ type, data });
    offset += 12 + length;
  }
  expect(chunks[0].type).toBe('IHDR');
  expect(chunks.at(-1)?.type).toBe('IEND');
  const header = chunks[0].data;
  const width = header.readUInt32BE(0);
  const height = header.readUInt32BE(4);
  const raw = inflateSync(Buffer.concat(chunks.filter((c) => c.type === 'IDAT').map((c) => c.data)));
  expect(raw.length).toBe(height * (1 + width * 4));
  const rgba = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    expect(raw[y * (1 + width * 4)], `filter type of row ${y}`).toBe(0);
    rgba.set(raw.subarray(y * (1 + width * 4) + 1, (y + 1) * (1 + width * 4)), y * width * 4);
  }
  return { width, height, bitDepth: header[8], colorType: header[9], rgba };
}

const rgbOf = (png: DecodedPng, x: number, y: number) => {
  const i = (Math.floor(y) * png.width + Math.floor(x)) * 4;
  return [png.rgba[i], png.rgba[i + 1], png.rgba[i + 2], png.rgba[i + 3]];
};
const hexRgb = (hex: string) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
const distance = (a: number[], b: number[]) => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);

const straight = (label: string, from: number, to: number): LossSeries => ({
  label,
  points: [0, 25, 50, 75, 100].map((step) => ({ step, loss: from + ((to - from) * step) / 100 })),
});

describe('renderLossCurvesPng', () => {
  const series = [straight('falling', 4, 1), straight('rising', 1, 3)];
  const options = { title: 'job 42: loss per trial', width: 640, height: 360 };
  const png = decodePng(renderLossCurvesPng(series, options));
  const layout = layoutLossChart(series, options, { charWidth: FIXED_6X13.width, lineHeight: FIXED_6X13.height, capHeight: 9 });

  it('is an opaque 8-bit RGBA PNG of the requested size', () => {
    expect([png.width, png.height, png.bitDepth, png.colorType]).toEqual([640, 360, 8, 6]);
    for (let i = 3; i < png.rgba.length; i += 4) if (png.rgba[i] !== 255) throw new Error(`pixel ${(i - 3) / 4} is not opaque`);
  });

  it('colours the pixels along each line in its series colour, and leaves the space between lines blank', () => {
    for (const [index, s] of layout.series.entries()) {
      const [a, b] = [s.segments[0][0], s.segments[0].at(-1)!];
      for (const t of [0.1, 0.3, 0.45, 0.7, 0.9]) {
        const pixel = rgbOf(png, a.x + (b.x - a.x) * t, a.y + (b.y - a.y) * t);
        expect(distance(pixel, hexRgb(seriesColor(index))), `${s.label} at t=${t}: ${pixel}`).toBeLessThan(40);
      }
    }
    // 12 px above the falling line, near its start, is away from every line, grid line and label
    const start = layout.series[0].segments[0][0];
    const blank = rgbOf(png, start.x + 30, start.y - 12);
    expect(blank).toEqual([255, 255, 255, 255]);
  });

  it('draws the axes, and text (title, tick labels, legend) in dark pixels', () => {
    const { plot } = layout;
    const axis = hexRgb('#555555');
    expect(rgbOf(png, plot.x, plot.y + plot.height / 2).slice(0, 3)).toEqual(axis);
    expect(rgbOf(png, plot.x + plot.width / 2, plot.y + plot.height).slice(0, 3)).toEqual(axis);
    const darkPixelsIn = (x0: number, y0: number, x1: number, y1: number) => {
      let count = 0;
      for (let y = Math.floor(y0); y < y1; y++) for (let x = Math.floor(x0); x < x1; x++) if (rgbOf(png, x, y)[0] < 100) count++;
      return count;
    };
    const title = layout.title!;
    expect(darkPixelsIn(title.x - 60, title.y - 11, title.x + 60, title.y + 2)).toBeGreaterThan(50);
    const legendLabel = layout.legend[1].label;
    expect(darkPixelsIn(legendLabel.x, legendLabel.y - 11, legendLabel.x + 36, legendLabel.y + 2)).toBeGreaterThan(20);
    const yLabel = layout.yTicks[0].label;
    expect(darkPixelsIn(yLabel.x - 24, yLabel.y - 11, yLabel.x, yLabel.y + 2)).toBeGreaterThan(5);
  });

  it('renders an empty job and a log scale without failing', () => {
    expect(decodePng(renderLossCurvesPng([], {})).width).toBe(800);
    expect(decodePng(renderLossCurvesPng(series, { logScale: true })).height).toBe(450);
  });
});
