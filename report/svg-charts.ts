/** Charts drawn as inline SVG text, so a report needs no script or network to show them. */

/** Text made safe for HTML and SVG content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export interface Series {
  readonly name: string;
  readonly points: readonly (readonly [x: number, y: number])[];
}

export interface LineChartOptions {
  readonly title: string;
  readonly xLabel: string;
  readonly series: readonly Series[];
  /** The x values are counts (epochs, steps): ticks only at whole numbers. */
  readonly wholeX?: boolean;
  /** Vertical guides at these x values (e.g. epoch ends), with their labels. */
  readonly marks?: readonly { readonly x: number; readonly label: string }[];
}

const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#17becf'];
const WIDTH = 640;
const HEIGHT = 300;
const MARGIN = { left: 64, right: 16, top: 32, bottom: 44 };

/** About `count` round tick values covering [low, high], at least `minStep` apart. */
export function ticks(low: number, high: number, count = 5, minStep = 0): number[] {
  if (!(high > low)) return [low];
  const raw = Math.max((high - low) / count, minStep);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? raw;
  const found: number[] = [];
  for (let t = Math.ceil(low / step) * step; t <= high + step * 1e-9; t += step) found.push(Number(t.toPrecision(12)));
  return found;
}

function format(value: number): string {
  if (value === 0) return '0';
  const size = Math.abs(value);
  return size >= 1e4 || size < 1e-3 ? value.toExponential(1) : String(Number(value.toPrecision(4)));
}

/** Lines of (x, y) points over shared axes, with a legend; non-finite points are left out. */
export function lineChart(options: LineChartOptions): string {
  const series = options.series.map((s) => ({
    ...s,
    points: s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)),
  }));
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) return '';
  const xs = all.map(([x]) => x);
  const ys = all.map(([, y]) => y);
  let [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (x0 === x1) [x0, x1] = [x0 - 1, x1 + 1];
  if (y0 === y1) [y0, y1] = [y0 - Math.abs(y0 || 1) * 0.1, y1 + Math.abs(y1 || 1) * 0.1];
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const px = (x: number) => MARGIN.left + ((x - x0) / (x1 - x0)) * plotW;
  const py = (y: number) => MARGIN.top + (1 - (y - y0) / (y1 - y0)) * plotH;
  const parts = [
    `<svg class="chart line-chart" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" role="img" aria-label="${escapeHtml(options.title)}">`,
    `<text class="title" x="${MARGIN.left}" y="18">${escapeHtml(options.title)}</text>`,
    `<rect class="plot" x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}"/>`,
  ];
  for (const t of ticks(y0, y1))
    parts.push(
      `<line class="grid" x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${py(t).toFixed(1)}" y2="${py(t).toFixed(1)}"/>`,
      `<text class="tick" x="${MARGIN.left - 6}" y="${(py(t) + 4).toFixed(1)}" text-anchor="end">${format(t)}</text>`,
    );
  for (const t of ticks(x0, x1, 5, options.wholeX ? 1 : 0))
    parts.push(
      `<text class="tick" x="${px(t).toFixed(1)}" y="${MARGIN.top + plotH + 16}" text-anchor="middle">${format(t)}</text>`,
    );
  for (const mark of options.marks ?? [])
    if (mark.x >= x0 && mark.x <= x1)
      parts.push(
        `<line class="mark" x1="${px(mark.x).toFixed(1)}" x2="${px(mark.x).toFixed(1)}" y1="${MARGIN.top}" y2="${MARGIN.top + plotH}"><title>${escapeHtml(mark.label)}</title></line>`,
      );
  parts.push(
    `<text class="axis" x="${MARGIN.left + plotW / 2}" y="${HEIGHT - 8}" text-anchor="middle">${escapeHtml(options.xLabel)}</text>`,
  );
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length]!;
    const path = s.points.map(([x, y], j) => `${j === 0 ? 'M' : 'L'}${px(x).toFixed(1)},${py(y).toFixed(1)}`).join('');
    parts.push(`<path class="series" d="${path}" stroke="${color}"/>`);
    if (s.points.length <= 60)
      for (const [x, y] of s.points)
        parts.push(
          `<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="3" fill="${color}"><title>${escapeHtml(`${s.name}: ${format(y)} at ${format(x)}`)}</title></circle>`,
        );
    const lx = MARGIN.left + 8 + (i % 4) * 140;
    const ly = MARGIN.top + 14 + Math.floor(i / 4) * 14;
    parts.push(
      `<rect x="${lx}" y="${ly - 8}" width="10" height="10" fill="${color}"/>`,
      `<text class="legend" x="${lx + 14}" y="${ly + 1}">${escapeHtml(s.name)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('');
}

export interface Bar {
  readonly label: string;
  readonly value: number;
  /** Shown on hover besides the value. */
  readonly detail?: string;
}

/** Horizontal bars of values in [0, 1], a row each, in the given order. */
export function barChart(title: string, bars: readonly Bar[]): string {
  const row = 16;
  const labelW = Math.min(260, 8 + 7 * Math.max(4, ...bars.map((b) => b.label.length)));
  const barW = 360;
  const height = 28 + bars.length * row;
  const width = labelW + barW + 70;
  const parts = [
    `<svg class="chart bar-chart" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeHtml(title)}">`,
    `<text class="title" x="0" y="16">${escapeHtml(title)}</text>`,
  ];
  bars.forEach((b, i) => {
    const y = 24 + i * row;
    const w = Math.max(0, Math.min(1, b.value)) * barW;
    parts.push(
      `<g class="bar"><title>${escapeHtml(`${b.label}: ${b.value.toFixed(4)}${b.detail ? ` (${b.detail})` : ''}`)}</title>`,
      `<text class="tick" x="${labelW - 6}" y="${y + 11}" text-anchor="end">${escapeHtml(b.label)}</text>`,
      `<rect x="${labelW}" y="${y + 2}" width="${w.toFixed(1)}" height="${row - 4}" fill="${COLORS[0]}"/>`,
      `<text class="tick" x="${labelW + w + 4}" y="${y + 11}">${b.value.toFixed(3)}</text></g>`,
    );
  });
  parts.push('</svg>');
  return parts.join('');
}

/**
 * A count matrix as a heat map (rows: actual, columns: predicted); only non-empty cells are drawn,
 * each with its count on hover, shaded by the share of its row. Labels are written when they fit.
 */
export function heatMap(title: string, labels: readonly string[], matrix: readonly (readonly number[])[]): string {
  const n = labels.length;
  const cell = Math.max(4, Math.min(24, Math.floor(720 / Math.max(1, n))));
  const showLabels = cell >= 10;
  const gutter = showLabels ? Math.min(200, 8 + 7 * Math.max(...labels.map((l) => l.length))) : 8;
  const size = gutter + n * cell;
  const parts = [
    `<svg class="chart heat-map" viewBox="0 0 ${size + 8} ${size + 8}" width="${size + 8}" height="${size + 8}" role="img" aria-label="${escapeHtml(title)}">`,
    `<rect class="plot" x="${gutter}" y="${gutter}" width="${n * cell}" height="${n * cell}"/>`,
  ];
  matrix.forEach((row, a) => {
    const total = row.reduce((sum, c) => sum + c, 0);
    row.forEach((count, p) => {
      if (count === 0) return;
      const share = count / Math.max(1, total);
      const fill =
        a === p
          ? `rgba(31,119,180,${(0.15 + 0.85 * share).toFixed(3)})`
          : `rgba(214,39,40,${(0.2 + 0.8 * share).toFixed(3)})`;
      parts.push(
        `<rect class="cell" x="${gutter + p * cell}" y="${gutter + a * cell}" width="${cell}" height="${cell}" fill="${fill}"><title>${escapeHtml(`${labels[a]} → ${labels[p]}: ${count}`)}</title></rect>`,
      );
    });
  });
  if (showLabels)
    labels.forEach((label, i) => {
      const middle = gutter + i * cell + cell / 2 + 4;
      parts.push(
        `<text class="tick" x="${gutter - 4}" y="${middle}" text-anchor="end">${escapeHtml(label)}</text>`,
        `<text class="tick" transform="translate(${middle - 8},${gutter - 4}) rotate(-90)">${escapeHtml(label)}</text>`,
      );
    });
  parts.push('</svg>');
  return parts.join('');
}
