/**
 * A line chart as a standalone SVG file, for bench results that are series over time: a reader
 * sees the shape (flat, growing, saw-tooth) at a glance, where a table of numbers hides it.
 */
export interface Series {
  label: string;
  /** [x, y] points, x ascending. */
  points: ReadonlyArray<readonly [number, number]>;
}

const COLOURS = ['#2563eb', '#dc2626', '#059669', '#d97706'];
const WIDTH = 760;
const HEIGHT = 320;
const MARGIN = { left: 64, right: 16, top: 44, bottom: 44 };
const LEGEND_ROW = 16;

export function lineChartSvg(input: {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly Series[];
  /** A horizontal line, e.g. a goal. */
  threshold?: { y: number; label: string };
}): string {
  const all = input.series.flatMap((s) => s.points);
  const xMax = Math.max(1, ...all.map(([x]) => x));
  const yMax = niceCeiling(Math.max(1, input.threshold?.y ?? 0, ...all.map(([, y]) => y)) * 1.05);
  // One legend row per series, between the title and the plot.
  const top = MARGIN.top + LEGEND_ROW * input.series.length + 8;
  const height = HEIGHT + LEGEND_ROW * input.series.length;
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = height - top - MARGIN.bottom;
  const sx = (x: number) => MARGIN.left + (x / xMax) * plotW;
  const sy = (y: number) => top + plotH - (y / yMax) * plotH;
  const text = (x: number, y: number, body: string, extra = '') =>
    `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${extra}>${escapeXml(body)}</text>`;

  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${height}" fill="white"/>`,
    text(MARGIN.left, 20, input.title, 'font-size="14" font-weight="bold"'),
  ];
  for (let i = 0; i <= 5; i++) {
    const y = (yMax * i) / 5;
    parts.push(
      `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${sy(y).toFixed(1)}" y2="${sy(y).toFixed(1)}" stroke="#e5e7eb"/>`,
      text(MARGIN.left - 8, sy(y) + 4, formatTick(y), 'text-anchor="end"'),
    );
    const x = Math.round((xMax * i) / 5);
    parts.push(text(sx(x), height - MARGIN.bottom + 16, formatTick(x), 'text-anchor="middle"'));
  }
  parts.push(
    text(MARGIN.left + plotW / 2, height - 8, input.xLabel, 'text-anchor="middle"'),
    text(14, top + plotH / 2, input.yLabel, `text-anchor="middle" transform="rotate(-90 14 ${top + plotH / 2})"`),
  );
  if (input.threshold) {
    const y = sy(input.threshold.y).toFixed(1);
    parts.push(
      `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${y}" y2="${y}" stroke="#6b7280" stroke-dasharray="6 4"/>`,
      text(WIDTH - MARGIN.right - 4, Number(y) - 4, input.threshold.label, 'text-anchor="end" fill="#374151"'),
    );
  }
  input.series.forEach((series, i) => {
    const colour = COLOURS[i % COLOURS.length];
    const d = series.points.map(([x, y], j) => `${j ? 'L' : 'M'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join('');
    parts.push(
      `<path d="${d}" fill="none" stroke="${colour}" stroke-width="1.5"/>`,
      `<rect x="${MARGIN.left}" y="${MARGIN.top + i * LEGEND_ROW - 4}" width="14" height="3" fill="${colour}"/>`,
      text(MARGIN.left + 20, MARGIN.top + i * LEGEND_ROW, series.label),
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

function niceCeiling(value: number): number {
  const magnitude = 10 ** Math.floor(Math.log10(value));
  const step = [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10].find((s) => s * magnitude >= value) ?? 10;
  return step * magnitude;
}

function formatTick(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

function escapeXml(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
