import { layoutLossChart, type TextAnchor } from './layout.js';
import type { LossPlotOptions, LossSeries } from './loss-series.js';
import { CHART_COLORS } from './palette.js';

const FONT_SIZE = 12;
/** A monospace font makes text widths predictable, so the layout's margins fit in any viewer. */
const FONT_FAMILY = 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace';
const METRICS = { charWidth: FONT_SIZE * 0.6, lineHeight: FONT_SIZE + 3, capHeight: FONT_SIZE * 0.7 };

/** A standalone SVG document: axes with ticks, one coloured path per series, a legend. */
export function renderLossCurvesSvg(series: readonly LossSeries[], options: LossPlotOptions = {}): string {
  const chart = layoutLossChart(series, options, METRICS);
  const { plot } = chart;
  const bottom = plot.y + plot.height;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${chart.width}" height="${chart.height}" viewBox="0 0 ${chart.width} ${chart.height}" font-family="${FONT_FAMILY}" font-size="${FONT_SIZE}">`,
    `<title>${escapeXml(options.title ?? 'loss curves')}</title>`,
    `<rect width="100%" height="100%" fill="${CHART_COLORS.background}"/>`,
    `<clipPath id="plot-area"><rect x="${n(plot.x)}" y="${n(plot.y)}" width="${n(plot.width)}" height="${n(plot.height)}"/></clipPath>`,
    `<g stroke="${CHART_COLORS.grid}" stroke-width="1">`,
    ...chart.xTicks.map((t) => `<line x1="${crisp(t.x)}" y1="${n(plot.y)}" x2="${crisp(t.x)}" y2="${n(bottom)}"/>`),
    ...chart.yTicks.map((t) => `<line x1="${n(plot.x)}" y1="${crisp(t.y)}" x2="${n(plot.x + plot.width)}" y2="${crisp(t.y)}"/>`),
    '</g>',
    `<g stroke="${CHART_COLORS.axis}" stroke-width="1">`,
    `<path fill="none" d="M${crisp(plot.x)} ${n(plot.y)}V${crisp(bottom)}H${n(plot.x + plot.width)}"/>`,
    ...chart.xTicks.map((t) => `<line x1="${crisp(t.x)}" y1="${crisp(bottom)}" x2="${crisp(t.x)}" y2="${n(bottom + 4)}"/>`),
    ...chart.yTicks.map((t) => `<line x1="${n(plot.x - 4)}" y1="${crisp(t.y)}" x2="${crisp(plot.x)}" y2="${crisp(t.y)}"/>`),
    '</g>',
    `<g fill="${CHART_COLORS.text}">`,
    ...[...chart.xTicks, ...chart.yTicks].map((t) => text(t.label)),
    ...chart.axisLabels.map((label) => text(label)),
    ...(chart.title ? [text(chart.title, ' font-weight="bold" font-size="14"')] : []),
    ...(chart.message ? [text(chart.message, ` fill="${CHART_COLORS.mutedText}"`)] : []),
    '</g>',
    `<g clip-path="url(#plot-area)" fill="none" stroke-width="1.75" stroke-linejoin="round" stroke-linecap="round">`,
    ...chart.series.map((s) => {
      const d = s.segments.map((segment) => segment.map((p, i) => `${i === 0 ? 'M' : 'L'}${n(p.x)} ${n(p.y)}`).join('')).join('');
      const dots = s.segments
        .filter((segment) => segment.length === 1)
        .map((segment) => `<circle cx="${n(segment[0].x)}" cy="${n(segment[0].y)}" r="2.5" fill="${s.color}" stroke="none"/>`);
      return [`<path stroke="${s.color}" d="${d}"><title>${escapeXml(s.label)}</title></path>`, ...dots].join('');
    }),
    '</g>',
    `<g>`,
    ...chart.legend.map(
      (row) =>
        (row.swatch
          ? `<line x1="${n(row.swatch.x1)}" y1="${n(row.swatch.y)}" x2="${n(row.swatch.x2)}" y2="${n(row.swatch.y)}" stroke="${row.swatch.color}" stroke-width="3" stroke-linecap="round"/>`
          : '') + text(row.label, ` fill="${CHART_COLORS.text}"`),
    ),
    '</g>',
    '</svg>',
  ];
  return `${out.join('\n')}\n`;
}

function text(anchor: TextAnchor, attributes = ''): string {
  return `<text x="${n(anchor.x)}" y="${n(anchor.y)}" text-anchor="${anchor.align}"${attributes}>${escapeXml(anchor.text)}</text>`;
}

/** Two decimals are finer than any screen. */
function n(value: number): string {
  return String(Math.round(value * 100) / 100);
}

/** 1-px strokes on pixel centres stay sharp. */
function crisp(value: number): string {
  return String(Math.round(value) + 0.5);
}

function escapeXml(value: string): string {
  return value.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] ?? c);
}
