import type { Rgb, RgbaCanvas } from './canvas.js';
import type { BitmapFont } from './fonts.js';

/** Draws one line of text with a bitmap font; characters outside printable ASCII show as "?". */
export function drawText(
  canvas: RgbaCanvas,
  text: string,
  x: number,
  baseline: number,
  align: 'start' | 'middle' | 'end',
  font: BitmapFont,
  color: Rgb,
): void {
  const width = text.length * font.width;
  const left = Math.round(align === 'start' ? x : align === 'middle' ? x - width / 2 : x - width);
  const top = Math.round(baseline) - font.ascent;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    const glyph = font.glyphs[(code >= 32 && code <= 126 ? code : 63) - 32];
    for (let row = 0; row < font.height; row++) {
      const bits = parseInt(glyph.slice(row * 2, row * 2 + 2), 16);
      for (let column = 0; column < font.width; column++) {
        if (bits & (0x80 >> column)) canvas.blend(left + index * font.width + column, top + row, color, 1);
      }
    }
  }
}
