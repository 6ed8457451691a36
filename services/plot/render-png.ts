import { layoutLossChart, type TextAnchor } from './layout.js';
import type { LossPlotOptions, LossSeries } from './loss-series.js';
import { CHART_COLORS } from './palette.js';
import { RgbaCanvas, parseHexColor, type Rgb } from './raster/canvas.js';
import { drawText } from './raster/draw-text.js';
import { encodePng } from './raster/encode-png.js';
import { FIXED_6X13, FIXED_7X13_BOLD, type BitmapFont } from './raster/fonts.js';
import { strokePolyline } from './raster/stroke-polyline.js';

const METRICS = { charWidth: FIXED_6X13.width, lineHeight: FIXED_6X13.height, capHeight: 9 };
const LINE_WIDTH = 2;

/** The same chart as renderLossCurvesSvg, rasterized here (no native dependencies), as PNG file bytes. */
export function renderLossCurvesPng(series: readonly LossSeries[], options: LossPlotOptions = {}): Uint8Array {
  const chart = layoutLossChart(series, options, METRICS);
  const { plot } = chart;
  const color = {
    grid: parseHexColor(CHART_COLORS.grid),
    axis: parseHexColor(CHART_COLORS.axis),
    text: parseHexColor(CHART_COLORS.text),
    muted: parseHexColor(CHART_COLORS.mutedText),
  };
  const canvas = new RgbaCanvas(chart.width, chart.height, parseHexColor(CHART_COLORS.background));
  const write = (anchor: TextAnchor, rgb: Rgb, font: BitmapFont = FIXED_6X13) =>
    drawText(canvas, anchor.text, anchor.x, anchor.y, anchor.align, font, rgb);

  const left = plot.x;
  const bottom = plot.y + plot.height;
  for (const tick of chart.xTicks) canvas.fillRect(Math.round(tick.x), plot.y, 1, plot.height, color.grid);
  for (const tick of chart.yTicks) canvas.fillRect(left, Math.round(tick.y), plot.width, 1, color.grid);
  canvas.fillRect(left, plot.y, 1, plot.height + 1, color.axis);
  canvas.fillRect(left, bottom, plot.width + 1, 1, color.axis);
  for (const tick of chart.xTicks) {
    canvas.fillRect(Math.round(tick.x), bottom, 1, 5, color.axis);
    write(tick.label, color.text);
  }
  for (const tick of chart.yTicks) {
    canvas.fillRect(left - 4, Math.round(tick.y), 4, 1, color.axis);
    write(tick.label, color.text);
  }
  for (const label of chart.axisLabels) write(label, color.text);
  if (chart.title) write(chart.title, color.text, FIXED_7X13_BOLD);
  if (chart.message) write(chart.message, color.muted);

  // Lines may reach half their width past the plot edge; clip there, like the SVG clip path.
  const clip = { x: left + 1, y: plot.y - LINE_WIDTH, width: plot.width + LINE_WIDTH, height: plot.height + LINE_WIDTH };
  for (const s of chart.series) {
    for (const segment of s.segments) strokePolyline(canvas, segment, parseHexColor(s.color), segment.length === 1 ? 5 : LINE_WIDTH, clip);
  }
  for (const row of chart.legend) {
    if (row.swatch)
      strokePolyline(
        canvas,
        [
          { x: row.swatch.x1, y: row.swatch.y },
          { x: row.swatch.x2, y: row.swatch.y },
        ],
        parseHexColor(row.swatch.color),
        3,
      );
    write(row.label, color.text);
  }
  return encodePng(chart.width, chart.height, canvas.pixels);
}
