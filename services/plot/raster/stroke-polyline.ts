import type { Rgb, RgbaCanvas } from './canvas.js';

export interface ClipRect {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/**
 * Draws a polyline `lineWidth` px wide with round joins and caps, anti-aliased: each pixel's
 * coverage is its centre's distance to the nearest segment, and overlapping segments take the
 * maximum, so joints are not darker than the line. One point draws a dot.
 */
export function strokePolyline(
  canvas: RgbaCanvas,
  points: readonly { readonly x: number; readonly y: number }[],
  color: Rgb,
  lineWidth: number,
  clip: ClipRect = { x: 0, y: 0, width: canvas.width, height: canvas.height },
): void {
  if (points.length === 0) return;
  const reach = lineWidth / 2 + 1;
  const bx0 = Math.max(Math.floor(clip.x), Math.floor(Math.min(...points.map((p) => p.x)) - reach));
  const by0 = Math.max(Math.floor(clip.y), Math.floor(Math.min(...points.map((p) => p.y)) - reach));
  const bx1 = Math.min(Math.ceil(clip.x + clip.width), Math.ceil(Math.max(...points.map((p) => p.x)) + reach));
  const by1 = Math.min(Math.ceil(clip.y + clip.height), Math.ceil(Math.max(...points.map((p) => p.y)) + reach));
  const w = bx1 - bx0;
  const h = by1 - by0;
  if (w <= 0 || h <= 0) return;
  const coverage = new Float32Array(w * h);
  const half = lineWidth / 2;

  for (let s = 0; s < Math.max(1, points.length - 1); s++) {
    const a = points[s];
    const b = points[Math.min(s + 1, points.length - 1)];
    const x0 = Math.max(bx0, Math.floor(Math.min(a.x, b.x) - reach));
    const x1 = Math.min(bx1, Math.ceil(Math.max(a.x, b.x) + reach));
    const y0 = Math.max(by0, Math.floor(Math.min(a.y, b.y) - reach));
    const y1 = Math.min(by1, Math.ceil(Math.max(a.y, b.y) + reach));
    const dx = b.x - a.x;
    const dy = b.y - a.y;
    const lengthSquared = dx * dx + dy * dy;
    for (let py = y0; py < y1; py++) {
      for (let px = x0; px < x1; px++) {
        const cx = px + 0.5 - a.x;
        const cy = py + 0.5 - a.y;
        const t = lengthSquared === 0 ? 0 : Math.max(0, Math.min(1, (cx * dx + cy * dy) / lengthSquared));
        const distance = Math.hypot(cx - t * dx, cy - t * dy);
        const cover = Math.min(1, half + 0.5 - distance);
        const i = (py - by0) * w + (px - bx0);
        if (cover > coverage[i]) coverage[i] = cover;
      }
    }
  }
  for (let py = 0; py < h; py++) {
    for (let px = 0; px < w; px++) canvas.blend(px + bx0, py + by0, color, coverage[py * w + px]);
  }
}
