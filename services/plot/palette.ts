/**
 * Tableau 10 (distinct hues that stay apart for common colour-vision deficiencies), then ten
 * lighter or darker companions from Tableau 20 for big sweeps; cycles past 20 series.
 */
const SERIES_COLORS = [
  ...['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'],
  ...['#a0cbe8', '#ffbe7d', '#8cd17d', '#f1ce63', '#499894', '#d4a6c8', '#79706e', '#b6992d', '#d37295', '#86bcb6'],
];

export function seriesColor(index: number): string {
  return SERIES_COLORS[index % SERIES_COLORS.length];
}

export const CHART_COLORS = {
  background: '#ffffff',
  grid: '#e8e8e8',
  axis: '#555555',
  text: '#333333',
  mutedText: '#777777',
} as const;
