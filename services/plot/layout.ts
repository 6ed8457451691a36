import type { LossPlotOptions, LossSeries } from './loss-series.js';
import { seriesColor } from './palette.js';
import { linearTicks, logTicks } from './ticks.js';

/** Text size of the renderer, in pixels; the layout reserves room with it. */
export interface TextMetrics {
  readonly charWidth: number;
  readonly lineHeight: number;
  /** Height of capitals and digits above the baseline (centres tick labels on their tick). */
  readonly capHeight: number;
}

export interface Point {
  readonly x: number;
  readonly y: number;
}

export interface TextAnchor {
  readonly text: string;
  readonly x: number;
  /** Baseline. */
  readonly y: number;
  readonly align: 'start' | 'middle' | 'end';
}

export interface LegendRow {
  readonly label: TextAnchor;
  readonly swatch?: { readonly color: string; readonly x1: number; readonly x2: number; readonly y: number };
}

/** Everything a renderer draws, in pixels from the top-left corner. */
export interface ChartLayout {
  readonly width: number;
  readonly height: number;
  readonly plot: { readonly x: number; readonly y: number; readonly width: number; readonly height: number };
  readonly title?: TextAnchor;
  readonly xTicks: readonly { readonly x: number; readonly label: TextAnchor }[];
  readonly yTicks: readonly { readonly y: number; readonly label: TextAnchor }[];
  readonly axisLabels: readonly TextAnchor[];
  /** One entry per input series, in order; each unbroken run of points is one segment. */
  readonly series: readonly { readonly label: string; readonly color: string; readonly segments: readonly (readonly Point[])[] }[];
  /** One row per series (the last says "+N more" without a swatch when they do not all fit). */
  readonly legend: readonly LegendRow[];
  /** Shown in the plot area when there is nothing to draw. */
  readonly message?: TextAnchor;
}

const PADDING = 14;
const TICK_LENGTH = 4;
const LEGEND_SWATCH = 18;
const MIN_PLOT = 40;

export function layoutLossChart(series: readonly LossSeries[], options: LossPlotOptions, text: TextMetrics): ChartLayout {
  const width = options.width ?? 800;
  const height = options.height ?? 450;
  const logScale = options.logScale ?? false;
  const usable = series.map((s) => s.points.filter((p) => Number.isFinite(p.step) && Number.isFinite(p.loss) && (!logScale || p.loss > 0)));
  const all = usable.flat();
  const yDomain = valueDomain(
    all.map((p) => p.loss),
    logScale,
  );
  const xDomain = stepDomain(all.map((p) => p.step));

  const yTickValues = logScale ? logTicks(yDomain[0], yDomain[1], 6) : linearTicks(yDomain[0], yDomain[1], 6);
  const yLabelChars = Math.max(4, ...yTickValues.map((t) => t.label.length));

  const legendChars = Math.min(
    Math.max(0, ...series.map((s) => s.label.length)),
    Math.floor((width * 0.3 - LEGEND_SWATCH - 8) / text.charWidth),
  );
  const legendWidth = series.length === 0 ? 0 : LEGEND_SWATCH + 6 + legendChars * text.charWidth + PADDING;

  // Whole pixels, so that 1-px axes and grid lines stay sharp.
  const top = Math.round(PADDING + (options.title ? text.lineHeight + 10 : 0) + text.lineHeight + 6);
  const left = Math.round(PADDING + yLabelChars * text.charWidth + TICK_LENGTH + 4);
  const bottom = Math.round(PADDING + 2 * text.lineHeight + TICK_LENGTH + 6);
  const right = Math.round(PADDING + legendWidth);
  const plot = { x: left, y: top, width: width - left - right, height: height - top - bottom };
  if (plot.width < MIN_PLOT || plot.height < MIN_PLOT) {
    throw new Error(
      `loss plot: ${width}×${height} px leaves no room for the plot area; use at least about ${left + right + MIN_PLOT}×${top + bottom + MIN_PLOT}`,
    );
  }

  const toX = (step: number) => plot.x + ((step - xDomain[0]) / (xDomain[1] - xDomain[0])) * plot.width;
  const yUnit = logScale ? Math.log10 : (v: number) => v;
  const toY = (loss: number) =>
    plot.y + plot.height - ((yUnit(loss) - yUnit(yDomain[0])) / (yUnit(yDomain[1]) - yUnit(yDomain[0]))) * plot.height;

  const textMiddle = text.capHeight / 2;
  const xTicks = linearTicks(xDomain[0], xDomain[1], Math.max(2, Math.floor(plot.width / 90)), 1).map((t) => ({
    x: toX(t.value),
    label: { text: t.label, x: toX(t.value), y: plot.y + plot.height + TICK_LENGTH + 3 + text.capHeight, align: 'middle' as const },
  }));
  const yTicks = yTickValues.map((t) => ({
    y: toY(t.value),
    label: { text: t.label, x: plot.x - TICK_LENGTH - 4, y: toY(t.value) + textMiddle, align: 'end' as const },
  }));

  const rowHeight = text.lineHeight + 5;
  const legendRows = Math.max(1, Math.floor(plot.height / rowHeight));
  const hidden = series.length > legendRows ? series.length - legendRows + 1 : 0;
  const legendX = plot.x + plot.width + PADDING;
  const rowMiddle = (row: number) => plot.y + row * rowHeight + rowHeight / 2;
  const legendLabel = (label: string, row: number): TextAnchor => ({
    text: truncate(label, legendChars),
    x: legendX + LEGEND_SWATCH + 6,
    y: rowMiddle(row) + textMiddle,
    align: 'start',
  });
  const legend: LegendRow[] = series.slice(0, series.length - hidden).map((s, row) => ({
    label: legendLabel(s.label, row),
    swatch: { color: seriesColor(row), x1: legendX, x2: legendX + LEGEND_SWATCH, y: rowMiddle(row) },
  }));
  if (hidden > 0) legend.push({ label: legendLabel(`+${hidden} more`, legend.length) });

  return {
    width,
    height,
    plot,
    ...(options.title ? { title: { text: options.title, x: width / 2, y: PADDING + text.capHeight, align: 'middle' as const } } : {}),
    xTicks,
    yTicks,
    axisLabels: [
      { text: logScale ? 'loss (log scale)' : 'loss', x: PADDING, y: plot.y - 10, align: 'start' },
      { text: 'step', x: plot.x + plot.width / 2, y: height - PADDING, align: 'middle' },
    ],
    series: series.map((s, index) => ({
      label: s.label,
      color: seriesColor(index),
      segments: segmentsOf(s.points, logScale).map((run) => decimate(run.map((p) => ({ x: toX(p.step), y: toY(p.loss) })))),
    })),
    legend,
    ...(all.length === 0
      ? {
          message: {
            text: 'no loss values yet',
            x: plot.x + plot.width / 2,
            y: plot.y + plot.height / 2 + textMiddle,
            align: 'middle' as const,
          },
        }
      : {}),
  };
}

/** Loss range with 5% headroom (multiplicative on a log scale); a default when empty or flat. */
function valueDomain(values: number[], logScale: boolean): [number, number] {
  if (values.length === 0) return logScale ? [0.1, 10] : [0, 1];
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  if (logScale) {
    const factor = hi === lo ? 1.25 : (hi / lo) ** 0.05;
    return [lo / factor, hi * factor];
  }
  const margin = hi === lo ? Math.max(Math.abs(lo) * 0.1, 0.5) : (hi - lo) * 0.05;
  return [lo - margin, hi + margin];
}

function stepDomain(steps: number[]): [number, number] {
  if (steps.length === 0) return [0, 1];
  const lo = Math.min(...steps);
  const hi = Math.max(...steps);
  return hi === lo ? [lo - 1, hi + 1] : [lo, hi];
}

/** Points sorted by step, split wherever a value cannot be drawn. */
function segmentsOf(points: LossSeries['points'], logScale: boolean): LossSeries['points'][] {
  const sorted = points.filter((p) => Number.isFinite(p.step)).sort((a, b) => a.step - b.step);
  const segments: LossSeries['points'][] = [];
  let run: LossSeries['points'][number][] = [];
  for (const p of sorted) {
    if (Number.isFinite(p.loss) && (!logScale || p.loss > 0)) run.push(p);
    else if (run.length > 0) {
      segments.push(run);
      run = [];
    }
  }
  if (run.length > 0) segments.push(run);
  return segments;
}

/** Long runs keep, per pixel column, the first, lowest, highest and last point: the same picture, bounded size. */
function decimate(points: Point[]): Point[] {
  if (points.length <= 2 * Math.abs(points[points.length - 1].x - points[0].x) + 4) return points;
  const kept: Point[] = [];
  let start = 0;
  while (start < points.length) {
    const column = Math.floor(points[start].x);
    let end = start;
    while (end + 1 < points.length && Math.floor(points[end + 1].x) === column) end++;
    let low = start;
    let high = start;
    for (let i = start + 1; i <= end; i++) {
      if (points[i].y > points[low].y) low = i;
      if (points[i].y < points[high].y) high = i;
    }
    for (const i of new Set([start, Math.min(low, high), Math.max(low, high), end])) kept.push(points[i]);
    start = end + 1;
  }
  return kept;
}

function truncate(label: string, maxChars: number): string {
  return label.length <= maxChars ? label : `${label.slice(0, Math.max(0, maxChars - 3))}...`;
}
