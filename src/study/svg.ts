/**
 * Line charts as standalone SVG text (no dependencies): several series, axes with "nice" ticks and labels,
 * an optional log2 axis (ticks at powers of two, labelled 2^k), a legend and a title. `chartPanelsSvg` stacks
 * several charts in one picture (e.g. a function and its approximation error). Non-finite points (and
 * non-positive ones on a log2 axis) break the line instead of distorting it. A series may show markers
 * (and no line) for scatter plots.
 */

export interface ChartSeries {
  readonly label: string;
  readonly x: ArrayLike<number>;
  readonly y: ArrayLike<number>;
  /** CSS colour. @default from a fixed palette, by series order */
  readonly color?: string;
  /** SVG stroke-dasharray, e.g. "6 3". @default solid */
  readonly dash?: string;
  /** Stroke width in px. @default 1.6 */
  readonly width?: number;
  /** Draw a marker at every point (scatter plots). @default none */
  readonly marker?: 'circle' | 'square' | 'cross';
  /** Join the points with a line. @default true */
  readonly line?: boolean;
}

export interface ChartAxis {
  readonly label?: string;
  /** Logarithmic axis in base 2 (ticks at powers of two). @default false */
  readonly log2?: boolean;
  /** Axis range; @default the data range (with a little padding on a linear y axis) */
  readonly min?: number;
  readonly max?: number;
}

export interface LineChartOptions {
  readonly title?: string;
  /** @default 720 */
  readonly width?: number;
  /** @default 420 */
  readonly height?: number;
  readonly x?: ChartAxis;
  readonly y?: ChartAxis;
  readonly series: readonly ChartSeries[];
  /** Show the legend (inside the plot). @default true */
  readonly legend?: boolean;
  /** Corner of the plot that holds the legend. @default 'top-right' */
  readonly legendPosition?: 'top-right' | 'top-left' | 'bottom-right' | 'bottom-left';
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#17becf', '#7f7f7f'];
const MARGIN = { left: 78, right: 20, top: 36, bottom: 52 };

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
function tickText(label: string, x: number, y: number, anchor: string): string {
  const m = /^2\^(-?\d+)$/.exec(label);
  const body = m ? `2<tspan dy="-5" font-size="9">${m[1]}</tspan>` : escapeXml(label);
  return `<text x="${r2(x)}" y="${r2(y)}" text-anchor="${anchor}" font-size="11" fill="#333">${body}</text>`;
}

/** The chart's SVG elements (no <svg> wrapper), drawn in a width × height box at the origin. */
function chartBody(o: LineChartOptions): string {
  const f = chartFrame(o);
  return [
    `<rect x="0" y="0" width="${f.width}" height="${f.height}" fill="#fff"/>`,
    ...(o.title
      ? [
          `<text x="${r2(f.width / 2)}" y="22" text-anchor="middle" font-size="15" font-weight="bold" fill="#111">${escapeXml(o.title)}</text>`,
        ]
      : []),
    ...gridAndTicks(f),
    `<rect x="${f.x0}" y="${f.y1}" width="${f.x1 - f.x0}" height="${f.y0 - f.y1}" fill="none" stroke="#333"/>`,
    ...axisLabels(o, f),
    ...seriesLines(o, f),
    ...(o.legend !== false && o.series.length > 0 ? legend(o, f) : []),
  ].join('\n');
}

/** Where a chart draws: its size, the plot area (x0 → x1 left to right, y0 → y1 bottom to top) and the axis scales. */
interface ChartFrame {
  width: number;
  height: number;
  x0: number;
  x1: number;
  y0: number;
  y1: number;
  xScale: Scale;
  yScale: Scale;
}

function chartFrame(o: LineChartOptions): ChartFrame {
  const width = o.width ?? 720;
  const height = o.height ?? 420;
  const x0 = MARGIN.left;
  const x1 = width - MARGIN.right;
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
  return { width, height, x0, x1, y0, y1, xScale, yScale };
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
    parts.push(tickText(t.label, px, y0 + 18, 'middle'));
  }
  for (const t of f.yScale.ticks()) {
    const py = f.yScale.map(t.v);
    if (py > y0 + 0.5 || py < y1 - 0.5) continue;
    parts.push(`<line x1="${x0}" y1="${r2(py)}" x2="${x1}" y2="${r2(py)}" stroke="#e4e4e4"/>`);
    parts.push(`<line x1="${x0 - 5}" y1="${r2(py)}" x2="${x0}" y2="${r2(py)}" stroke="#333"/>`);
    parts.push(tickText(t.label, x0 - 8, py + 4, 'end'));
  }
  return parts;
}

/** The x axis label under the plot, the y axis label turned along the left edge. */
function axisLabels(o: LineChartOptions, f: ChartFrame): string[] {
  const parts: string[] = [];
  if (o.x?.label) {
    parts.push(
      `<text x="${r2((f.x0 + f.x1) / 2)}" y="${f.height - 12}" text-anchor="middle" font-size="12" fill="#111">${escapeXml(o.x.label)}</text>`,
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

/** A series' colour: its own, or the palette's by series order. */
function seriesColor(s: ChartSeries, index: number): string {
  return s.color ?? PALETTE[index % PALETTE.length]!;
}

function dashAttribute(s: ChartSeries): string {
  return s.dash ? ` stroke-dasharray="${escapeXml(s.dash)}"` : '';
}

/** Whether a point can be drawn: finite, and positive on a log2 axis. */
function plottable(o: LineChartOptions, x: number, y: number): boolean {
  return Number.isFinite(x) && Number.isFinite(y) && (!o.x?.log2 || x > 0) && (!o.y?.log2 || y > 0);
}

/** Each series' line (broken at points that cannot be drawn) and markers, clipped to the plot area. */
function seriesLines(o: LineChartOptions, f: ChartFrame): string[] {
  const clip = `clip${Math.abs(hashString(`${o.title ?? ''}|${f.width}|${f.height}|${o.series.map((s) => s.label).join('|')}`))}`;
  const parts = [`<clipPath id="${clip}"><rect x="${f.x0}" y="${f.y1}" width="${f.x1 - f.x0}" height="${f.y0 - f.y1}"/></clipPath>`];
  o.series.forEach((s, si) => {
    const color = seriesColor(s, si);
    let d = '';
    let pen = false;
    for (let i = 0; i < s.x.length; i++) {
      const x = s.x[i]!;
      const y = s.y[i]!;
      if (!plottable(o, x, y)) {
        pen = false;
        continue;
      }
      d += `${pen ? 'L' : 'M'}${r2(f.xScale.map(x))} ${r2(f.yScale.map(y))}`;
      pen = true;
    }
    if (s.line !== false) {
      parts.push(
        `<path d="${d}" fill="none" stroke="${escapeXml(color)}" stroke-width="${s.width ?? 1.6}"${dashAttribute(s)} clip-path="url(#${clip})"/>`,
      );
    }
    if (s.marker) {
      for (let i = 0; i < s.x.length; i++) {
        const x = s.x[i]!;
        const y = s.y[i]!;
        if (plottable(o, x, y)) parts.push(markerSvg(s.marker, f.xScale.map(x), f.yScale.map(y), color, clip));
      }
    }
  });
  return parts;
}

/** The legend box in the chosen corner: a line and/or marker sample and the label of each series. */
function legend(o: LineChartOptions, f: ChartFrame): string[] {
  const lineH = 16;
  const boxW = Math.min(f.x1 - f.x0 - 10, 26 + 7 * Math.max(...o.series.map((s) => s.label.length)));
  const pos = o.legendPosition ?? 'top-right';
  const boxH = o.series.length * lineH + 8;
  const bx = pos.endsWith('right') ? f.x1 - boxW - 8 : f.x0 + 8;
  const by = pos.startsWith('top') ? f.y1 + 8 : f.y0 - boxH - 8;
  const parts = [`<rect x="${r2(bx)}" y="${by}" width="${r2(boxW)}" height="${boxH}" fill="#fff" fill-opacity="0.9" stroke="#999"/>`];
  o.series.forEach((s, si) => {
    const color = seriesColor(s, si);
    const ly = by + 12 + si * lineH;
    if (s.line !== false) {
      parts.push(
        `<line x1="${r2(bx + 6)}" y1="${ly}" x2="${r2(bx + 22)}" y2="${ly}" stroke="${escapeXml(color)}" stroke-width="2"${dashAttribute(s)}/>`,
      );
    }
    if (s.marker) parts.push(markerSvg(s.marker, bx + 14, ly, color));
    parts.push(`<text x="${r2(bx + 26)}" y="${ly + 4}" font-size="11" fill="#111">${escapeXml(s.label)}</text>`);
  });
  return parts;
}

/** A point marker centred at (x, y). */
function markerSvg(kind: 'circle' | 'square' | 'cross', x: number, y: number, color: string, clip?: string): string {
  const c = escapeXml(color);
  const clipAttr = clip ? ` clip-path="url(#${clip})"` : '';
  if (kind === 'circle') return `<circle cx="${r2(x)}" cy="${r2(y)}" r="3.2" fill="${c}" fill-opacity="0.75"${clipAttr}/>`;
  if (kind === 'square')
    return `<rect x="${r2(x - 3)}" y="${r2(y - 3)}" width="6" height="6" fill="none" stroke="${c}" stroke-width="1.4"${clipAttr}/>`;
  return `<path d="M${r2(x - 3.5)} ${r2(y - 3.5)}L${r2(x + 3.5)} ${r2(y + 3.5)}M${r2(x - 3.5)} ${r2(y + 3.5)}L${r2(x + 3.5)} ${r2(y - 3.5)}" stroke="${c}" stroke-width="1.6"${clipAttr}/>`;
}

function hashString(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
}

function svgOpen(width: number, height: number): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif">`;
}

/** One line chart as a standalone SVG document. */
export function lineChartSvg(options: LineChartOptions): string {
  const width = options.width ?? 720;
  const height = options.height ?? 420;
  return `${svgOpen(width, height)}\n${chartBody(options)}\n</svg>\n`;
}

/** Several charts stacked vertically in one SVG document (each keeps its own axes, legend and title). */
export function chartPanelsSvg(panels: readonly LineChartOptions[], options: { title?: string; width?: number } = {}): string {
  const width = options.width ?? 720;
  const titleH = options.title ? 34 : 0;
  let y = titleH;
  const groups: string[] = [];
  for (const p of panels) {
    const h = p.height ?? 360;
    groups.push(`<g transform="translate(0 ${y})">\n${chartBody({ ...p, width, height: h })}\n</g>`);
    y += h;
  }
  const head = options.title
    ? `<rect x="0" y="0" width="${width}" height="${titleH}" fill="#fff"/>\n<text x="${r2(width / 2)}" y="23" text-anchor="middle" font-size="16" font-weight="bold" fill="#111">${escapeXml(options.title)}</text>\n`
    : '';
  return `${svgOpen(width, y)}\n${head}${groups.join('\n')}\n</svg>\n`;
}
