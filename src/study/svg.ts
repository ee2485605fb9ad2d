/**
 * Line charts as standalone SVG text (no dependencies): several series, axes with "nice" ticks and labels,
 * an optional log2 axis (ticks at powers of two, labelled 2^k), a legend and a title. `chartPanelsSvg` stacks
 * several charts in one picture (e.g. a function and its approximation error). Non-finite points (and
 * non-positive ones on a log2 axis) break the line instead of distorting it. A series may show markers
 * (and no line) for scatter plots, and labels next to its points (placed so that they do not overlap).
 *
 * The legend sits in a column to the right of the plot area, never over the data: the picture grows to hold it.
 * Series without a colour of their own take the Tableau 10 palette in order; past ten, the dash changes too.
 * Data marks carry class="data-mark", the legend class="legend" (entries "legend-entry"), the plot area
 * class="plot-area", each chart class="panel", point labels class="point-label": the rendered-plot test finds
 * them by these.
 */
import { type LabelBox, placeLabels } from './point-labels.js';

export type MarkerKind = 'circle' | 'square' | 'cross' | 'triangle' | 'diamond';

export interface ChartSeries {
  readonly label: string;
  readonly x: ArrayLike<number>;
  readonly y: ArrayLike<number>;
  /** CSS colour. @default the palette's next colour (series with a colour of their own do not use one up) */
  readonly color?: string;
  /** SVG stroke-dasharray, e.g. "6 3". @default solid for the palette's first ten series, then dashed */
  readonly dash?: string;
  /** Stroke width in px. @default 1.6 */
  readonly width?: number;
  /** Draw a marker at every point (scatter plots). @default none */
  readonly marker?: MarkerKind;
  /** Join the points with a line. @default true */
  readonly line?: boolean;
  /** A label per point (same order as x and y), drawn beside it; empty strings draw nothing. @default none */
  readonly pointLabels?: readonly string[];
}

export interface ChartAxis {
  readonly label?: string;
  /** Logarithmic axis in base 2 (ticks at powers of two). @default false */
  readonly log2?: boolean;
  /** Axis range; @default the data range (with a little padding on a linear y axis) */
  readonly min?: number;
  readonly max?: number;
  /** Tick values (those inside the range are drawn). @default "nice" ticks (powers of two on a log2 axis) */
  readonly ticks?: readonly number[];
}

export interface LineChartOptions {
  readonly title?: string;
  /** Width of the chart without its legend column (the picture widens to hold the legend). @default 720 */
  readonly width?: number;
  /** At least this high (a long legend makes it higher). @default 420 */
  readonly height?: number;
  readonly x?: ChartAxis;
  readonly y?: ChartAxis;
  readonly series: readonly ChartSeries[];
  /** Show the legend (to the right of the plot area). @default true */
  readonly legend?: boolean;
}

/** Tableau 10: ten colours told apart in print and by most colour-blind readers. */
const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];
const DASHES = [undefined, '6 3', '2 2', '8 3 2 3'];
const MARKERS: readonly MarkerKind[] = ['circle', 'square', 'triangle', 'diamond', 'cross'];

/** The i-th categorical style: the palette's colours, then again with another dash and marker, so no two look alike. */
export function categoricalStyle(i: number): { color: string; dash?: string; marker: MarkerKind } {
  const round = Math.floor(i / PALETTE.length);
  const dash = DASHES[round % DASHES.length];
  return { color: PALETTE[i % PALETTE.length]!, ...(dash ? { dash } : {}), marker: MARKERS[round % MARKERS.length]! };
}

const MARGIN = { left: 78, right: 20, top: 36, bottom: 52 };
const LEGEND = { gap: 14, lineH: 16, pad: 8, sample: 26, fontSize: 11 };

/** A generous estimate of a text's width in px (Liberation Sans / Arial average about 0.5 em a character). */
function textWidth(text: string, fontSize: number): number {
  return text.length * fontSize * 0.6;
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Round to 2 decimals for compact, stable SVG coordinates. */
function r2(v: number): string {
  return String(Math.round(v * 100) / 100);
}

/** Ticks at 1, 2, 5 × 10^k spacing covering [min, max], about `count` of them (the step nearest range/count). */
export function niceTicks(min: number, max: number, count = 6): number[] {
  if (!(max > min)) return [min];
  const raw = (max - min) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  let step = mag;
  for (const m of [1, 2, 5, 10]) if (Math.abs(Math.log(m * mag) - Math.log(raw)) < Math.abs(Math.log(step) - Math.log(raw))) step = m * mag;
  const out: number[] = [];
  for (let k = Math.ceil(min / step - 1e-9); k * step <= max + step * 1e-9; k++) out.push(k === 0 ? 0 : Number((k * step).toPrecision(12)));
  return out;
}

function formatTick(v: number, step: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(Math.max(0, Math.min(6, Math.round(Math.log10(a) - Math.log10(step)))));
  const decimals = Math.max(0, Math.min(8, -Math.floor(Math.log10(step))));
  return v.toFixed(decimals);
}

interface Scale {
  readonly lo: number;
  readonly hi: number;
  map(v: number): number;
  ticks(): { v: number; label: string }[];
}

function axisScale(axis: ChartAxis, values: number[], pixLo: number, pixHi: number, pad: boolean): Scale {
  const log = axis.log2 === true;
  const usable = values.filter((v) => Number.isFinite(v) && (!log || v > 0)).map((v) => (log ? Math.log2(v) : v));
  let lo = axis.min !== undefined ? (log ? Math.log2(axis.min) : axis.min) : Math.min(...usable);
  let hi = axis.max !== undefined ? (log ? Math.log2(axis.max) : axis.max) : Math.max(...usable);
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) {
    lo = 0;
    hi = 1;
  }
  if (hi === lo) {
    const d = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    lo -= d;
    hi += d;
  } else if (pad && !log && axis.min === undefined && axis.max === undefined) {
    const d = 0.05 * (hi - lo);
    lo -= d;
    hi += d;
  }
  const map = (v: number) => {
    const u = log ? Math.log2(v) : v;
    return pixLo + ((u - lo) / (hi - lo)) * (pixHi - pixLo);
  };
  const ticks = () => {
    if (axis.ticks) return axis.ticks.map((v) => ({ v, label: log && Number.isInteger(Math.log2(v)) ? `2^${Math.log2(v)}` : String(v) }));
    if (log) {
      const a = Math.ceil(lo);
      const b = Math.floor(hi);
      const every = Math.max(1, Math.ceil((b - a + 1) / 8));
      const out: { v: number; label: string }[] = [];
      for (let k = a; k <= b; k++) if ((k - a) % every === 0) out.push({ v: 2 ** k, label: `2^${k}` });
      return out;
    }
    const ts = niceTicks(lo, hi);
    const step = ts.length > 1 ? ts[1]! - ts[0]! : Math.abs(hi - lo);
    return ts.map((v) => ({ v, label: formatTick(v, step) }));
  };
  return { lo, hi, map, ticks };
}

/** A tick label, with 2^k written as 2 and a raised k. */
function tickText(label: string, x: number, y: number, anchor: string, cls: string): string {
  const m = /^2\^(-?\d+)$/.exec(label);
  const body = m ? `2<tspan dy="-5" font-size="9">${m[1]}</tspan>` : escapeXml(label);
  return `<text class="${cls}" x="${r2(x)}" y="${r2(y)}" text-anchor="${anchor}" font-size="11" fill="#333">${body}</text>`;
}

/** Where a chart draws: its size, the plot area (x0 → x1 left to right, y0 → y1 bottom to top) and the axis scales. */
interface ChartFrame {
  /** The whole chart, legend column included. */
  width: number;
  height: number;
  x0: number;
  x1: number;
  y0: number;
  y1: number;
  xScale: Scale;
  yScale: Scale;
  /** The series with their colour and dash resolved (palette, by order among the series without a colour). */
  series: ResolvedSeries[];
}

interface ResolvedSeries extends ChartSeries {
  readonly color: string;
}

function resolveSeries(series: readonly ChartSeries[]): ResolvedSeries[] {
  let auto = 0;
  return series.map((s) => {
    if (s.color !== undefined) return { ...s, color: s.color };
    const style = categoricalStyle(auto++);
    return { ...s, color: style.color, ...(s.dash === undefined && style.dash ? { dash: style.dash } : {}) };
  });
}

function hasLegend(o: LineChartOptions): boolean {
  return o.legend !== false && o.series.length > 0;
}

/** Width of the legend column right of the plot area (0 without a legend). */
function legendColumnWidth(o: LineChartOptions): number {
  if (!hasLegend(o)) return 0;
  const longest = Math.max(...o.series.map((s) => textWidth(s.label, LEGEND.fontSize)));
  return LEGEND.gap + LEGEND.sample + longest + 2 * LEGEND.pad;
}

function legendHeight(o: LineChartOptions): number {
  return hasLegend(o) ? o.series.length * LEGEND.lineH + LEGEND.pad : 0;
}

/** The frame of a chart; `legendColumn` widens it (panels share the widest column so their plot areas line up). */
function chartFrame(o: LineChartOptions, legendColumn = legendColumnWidth(o)): ChartFrame {
  const plotWidth = o.width ?? 720;
  const height = Math.max(o.height ?? 420, MARGIN.top + legendHeight(o) + 8);
  const x0 = MARGIN.left;
  const x1 = plotWidth - MARGIN.right;
  const y0 = height - MARGIN.bottom;
  const y1 = MARGIN.top;
  const xs: number[] = [];
  const ys: number[] = [];
  for (const s of o.series) {
    for (let i = 0; i < s.x.length; i++) {
      xs.push(s.x[i]!);
      ys.push(s.y[i]!);
    }
  }
  const xScale = axisScale(o.x ?? {}, xs, x0, x1, false);
  const yScale = axisScale(o.y ?? {}, ys, y0, y1, true);
  return { width: plotWidth + legendColumn, height, x0, x1, y0, y1, xScale, yScale, series: resolveSeries(o.series) };
}

/** The chart's SVG elements (no <svg> wrapper), drawn in a f.width × f.height box at the origin. */
function chartBody(o: LineChartOptions, f: ChartFrame): string {
  return [
    '<g class="panel">',
    `<rect x="0" y="0" width="${r2(f.width)}" height="${f.height}" fill="#fff"/>`,
    ...(o.title
      ? [
          `<text x="${r2((f.x0 + f.x1) / 2)}" y="22" text-anchor="middle" font-size="15" font-weight="bold" fill="#111">${escapeXml(o.title)}</text>`,
        ]
      : []),
    ...gridAndTicks(f),
    `<rect class="plot-area" x="${f.x0}" y="${f.y1}" width="${f.x1 - f.x0}" height="${f.y0 - f.y1}" fill="none" stroke="#333"/>`,
    ...axisLabels(o, f),
    ...seriesLines(o, f),
    ...pointLabels(o, f),
    ...(hasLegend(o) ? legend(f) : []),
    '</g>',
  ].join('\n');
}

/** Grid lines, tick marks and tick labels of both axes (ticks outside the plot area are left out). */
function gridAndTicks(f: ChartFrame): string[] {
  const { x0, x1, y0, y1 } = f;
  const parts: string[] = [];
  for (const t of f.xScale.ticks()) {
    const px = f.xScale.map(t.v);
    if (px < x0 - 0.5 || px > x1 + 0.5) continue;
    parts.push(`<line x1="${r2(px)}" y1="${y1}" x2="${r2(px)}" y2="${y0}" stroke="#e4e4e4"/>`);
    parts.push(`<line x1="${r2(px)}" y1="${y0}" x2="${r2(px)}" y2="${y0 + 5}" stroke="#333"/>`);
    parts.push(tickText(t.label, px, y0 + 18, 'middle', 'x-tick'));
  }
  for (const t of f.yScale.ticks()) {
    const py = f.yScale.map(t.v);
    if (py > y0 + 0.5 || py < y1 - 0.5) continue;
    parts.push(`<line x1="${x0}" y1="${r2(py)}" x2="${x1}" y2="${r2(py)}" stroke="#e4e4e4"/>`);
    parts.push(`<line x1="${x0 - 5}" y1="${r2(py)}" x2="${x0}" y2="${r2(py)}" stroke="#333"/>`);
    parts.push(tickText(t.label, x0 - 8, py + 4, 'end', 'y-tick'));
  }
  return parts;
}

/** The x axis label under the plot, the y axis label turned along the left edge. */
function axisLabels(o: LineChartOptions, f: ChartFrame): string[] {
  const parts: string[] = [];
  if (o.x?.label) {
    parts.push(
      `<text x="${r2((f.x0 + f.x1) / 2)}" y="${f.y0 + MARGIN.bottom - 12}" text-anchor="middle" font-size="12" fill="#111">${escapeXml(o.x.label)}</text>`,
    );
  }
  if (o.y?.label) {
    const cy = (f.y0 + f.y1) / 2;
    parts.push(
      `<text x="16" y="${r2(cy)}" text-anchor="middle" font-size="12" fill="#111" transform="rotate(-90 16 ${r2(cy)})">${escapeXml(o.y.label)}</text>`,
    );
  }
  return parts;
}

function dashAttribute(s: ChartSeries): string {
  return s.dash ? ` stroke-dasharray="${escapeXml(s.dash)}"` : '';
}

/** Whether a point can be drawn: finite, and positive on a log2 axis. */
function plottable(o: LineChartOptions, x: number, y: number): boolean {
  return Number.isFinite(x) && Number.isFinite(y) && (!o.x?.log2 || x > 0) && (!o.y?.log2 || y > 0);
}

/** The pixel positions of a series' points that can be drawn, with their index. */
function pixels(o: LineChartOptions, f: ChartFrame, s: ChartSeries): { i: number; px: number; py: number }[] {
  const out: { i: number; px: number; py: number }[] = [];
  for (let i = 0; i < s.x.length; i++) {
    if (plottable(o, s.x[i]!, s.y[i]!)) out.push({ i, px: f.xScale.map(s.x[i]!), py: f.yScale.map(s.y[i]!) });
  }
  return out;
}

/** Each series' line (broken at points that cannot be drawn) and markers, clipped to the plot area. */
function seriesLines(o: LineChartOptions, f: ChartFrame): string[] {
  const clip = `clip${Math.abs(hashString(`${o.title ?? ''}|${f.width}|${f.height}|${o.series.map((s) => s.label).join('|')}`))}`;
  const parts = [`<clipPath id="${clip}"><rect x="${f.x0}" y="${f.y1}" width="${f.x1 - f.x0}" height="${f.y0 - f.y1}"/></clipPath>`];
  for (const s of f.series) {
    const pts = pixels(o, f, s);
    if (s.line !== false) {
      let d = '';
      pts.forEach((p, j) => (d += `${j > 0 && pts[j - 1]!.i === p.i - 1 ? 'L' : 'M'}${r2(p.px)} ${r2(p.py)}`));
      parts.push(
        `<path class="data-mark" data-series="${escapeXml(s.label)}" d="${d}" fill="none" stroke="${escapeXml(s.color)}" stroke-width="${s.width ?? 1.6}"${dashAttribute(s)} clip-path="url(#${clip})"/>`,
      );
    }
    if (s.marker) {
      for (const p of pts) parts.push(markerSvg(s.marker, p.px, p.py, s.color, `class="data-mark" clip-path="url(#${clip})"`));
    }
  }
  return parts;
}

/** The series' point labels, placed around their points so that they overlap neither each other nor the markers. */
function pointLabels(o: LineChartOptions, f: ChartFrame): string[] {
  const fontSize = 10;
  const wanted: { text: string; px: number; py: number }[] = [];
  for (const s of f.series) {
    for (const p of pixels(o, f, s)) {
      const text = s.pointLabels?.[p.i];
      if (text) wanted.push({ text, px: p.px, py: p.py });
    }
  }
  if (!wanted.length) return [];
  const area = { x: f.x0, y: f.y1, w: f.x1 - f.x0, h: f.y0 - f.y1 };
  const boxes = placeLabels(
    wanted.map((w) => ({ x: w.px, y: w.py, w: textWidth(w.text, fontSize), h: fontSize + 2 })),
    area,
    markObstacles(o, f),
  );
  return wanted.flatMap((w, i) => {
    const b = boxes[i]!;
    const [cx, cy] = [Math.max(b.x, Math.min(w.px, b.x + b.w)), Math.max(b.y, Math.min(w.py, b.y + b.h))];
    const leader =
      Math.hypot(cx - w.px, cy - w.py) > 8
        ? [`<line x1="${r2(w.px)}" y1="${r2(w.py)}" x2="${r2(cx)}" y2="${r2(cy)}" stroke="#888" stroke-width="0.7"/>`]
        : [];
    return [
      ...leader,
      `<text class="point-label" x="${r2(b.x)}" y="${r2(b.y + b.h - 3)}" font-size="${fontSize}" fill="#222" stroke="#fff" stroke-width="3" paint-order="stroke">${escapeXml(w.text)}</text>`,
    ];
  });
}

/** Small boxes over every marker and along every line (every few px), for point labels to keep off. */
function markObstacles(o: LineChartOptions, f: ChartFrame): LabelBox[] {
  const out: LabelBox[] = [];
  const dot = (x: number, y: number, r: number) => out.push({ x: x - r, y: y - r, w: 2 * r, h: 2 * r });
  for (const s of f.series) {
    const pts = pixels(o, f, s);
    pts.forEach((p, j) => {
      if (s.marker) dot(p.px, p.py, 4);
      const q = pts[j - 1];
      if (s.line === false || !q || q.i !== p.i - 1) return;
      const steps = Math.min(200, Math.ceil(Math.hypot(p.px - q.px, p.py - q.py) / 4));
      for (let t = 1; t <= steps; t++) dot(q.px + ((p.px - q.px) * t) / steps, q.py + ((p.py - q.py) * t) / steps, 1.5);
    });
  }
  return out;
}

/** The legend in its column right of the plot area: a line and/or marker sample and the label of each series. */
function legend(f: ChartFrame): string[] {
  const bx = f.x1 + LEGEND.gap;
  const by = f.y1;
  const boxW = f.width - bx - LEGEND.pad;
  const boxH = f.series.length * LEGEND.lineH + LEGEND.pad;
  const parts = ['<g class="legend">', `<rect x="${r2(bx)}" y="${by}" width="${r2(boxW)}" height="${boxH}" fill="#fff" stroke="#999"/>`];
  f.series.forEach((s, si) => {
    const ly = by + 12 + si * LEGEND.lineH;
    parts.push('<g class="legend-entry">');
    if (s.line !== false) {
      parts.push(
        `<line x1="${r2(bx + 6)}" y1="${ly}" x2="${r2(bx + 22)}" y2="${ly}" stroke="${escapeXml(s.color)}" stroke-width="2"${dashAttribute(s)}/>`,
      );
    }
    if (s.marker) parts.push(markerSvg(s.marker, bx + 14, ly, s.color));
    parts.push(
      `<text x="${r2(bx + LEGEND.sample)}" y="${ly + 4}" font-size="${LEGEND.fontSize}" fill="#111">${escapeXml(s.label)}</text>`,
      '</g>',
    );
  });
  parts.push('</g>');
  return parts;
}

/** A point marker centred at (x, y); `attributes` go on its element as they are. */
function markerSvg(kind: MarkerKind, x: number, y: number, color: string, attributes = ''): string {
  const c = escapeXml(color);
  const a = attributes ? ` ${attributes}` : '';
  const poly = (pts: [number, number][]) =>
    `<polygon points="${pts.map(([dx, dy]) => `${r2(x + dx)},${r2(y + dy)}`).join(' ')}" fill="${c}" fill-opacity="0.75"${a}/>`;
  if (kind === 'circle') return `<circle cx="${r2(x)}" cy="${r2(y)}" r="3.2" fill="${c}" fill-opacity="0.75"${a}/>`;
  if (kind === 'square')
    return `<rect x="${r2(x - 3)}" y="${r2(y - 3)}" width="6" height="6" fill="none" stroke="${c}" stroke-width="1.4"${a}/>`;
  if (kind === 'triangle')
    return poly([
      [0, -4],
      [3.6, 3],
      [-3.6, 3],
    ]);
  if (kind === 'diamond')
    return poly([
      [0, -4],
      [4, 0],
      [0, 4],
      [-4, 0],
    ]);
  return `<path d="M${r2(x - 3.5)} ${r2(y - 3.5)}L${r2(x + 3.5)} ${r2(y + 3.5)}M${r2(x - 3.5)} ${r2(y + 3.5)}L${r2(x + 3.5)} ${r2(y - 3.5)}" stroke="${c}" stroke-width="1.6"${a}/>`;
}

function hashString(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
}

function svgOpen(width: number, height: number): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${r2(width)}" height="${r2(height)}" viewBox="0 0 ${r2(width)} ${r2(height)}" font-family="Helvetica, Arial, sans-serif">`;
}

/** One line chart as a standalone SVG document (wider than `width` by its legend column). */
export function lineChartSvg(options: LineChartOptions): string {
  const f = chartFrame(options);
  return `${svgOpen(f.width, f.height)}\n${chartBody(options, f)}\n</svg>\n`;
}

/**
 * Several charts stacked vertically in one SVG document (each keeps its own axes, legend and title). Every panel
 * gets the widest legend column, so the plot areas line up; `width` is the width without that column.
 */
export function chartPanelsSvg(panels: readonly LineChartOptions[], options: { title?: string; width?: number } = {}): string {
  const width = options.width ?? 720;
  const column = Math.max(0, ...panels.map(legendColumnWidth));
  const titleH = options.title ? 34 : 0;
  let y = titleH;
  const groups: string[] = [];
  for (const p of panels) {
    const f = chartFrame({ ...p, width, height: p.height ?? 360 }, column);
    groups.push(`<g transform="translate(0 ${y})">\n${chartBody(p, f)}\n</g>`);
    y += f.height;
  }
  const total = width + column;
  const head = options.title
    ? `<rect x="0" y="0" width="${r2(total)}" height="${titleH}" fill="#fff"/>\n<text x="${r2(total / 2)}" y="23" text-anchor="middle" font-size="16" font-weight="bold" fill="#111">${escapeXml(options.title)}</text>\n`
    : '';
  return `${svgOpen(total, y)}\n${head}${groups.join('\n')}\n</svg>\n`;
}
