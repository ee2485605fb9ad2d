/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * Every SVG the code draws, rendered in headless Chromium (Debian's, driven by playwright-core) and measured:
 * no legend covers a data mark (markers' boxes; lines' segments against the legend's rectangle), every data mark
 * stays inside its plot area, every text sits inside the SVG's viewport, the Pareto points' labels do not overlap
 * each other, no two series of a legend look alike, and k increases to the right on the loss-vs-k panels.
 * Plots: the study's two kinds from the committed docs/study/results.json and from a small synthetic summary, and
 * the `pann fit --plot` picture.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activation } from '../../src/approx/activations.js';
import { fitApproximation } from '../../src/approx/fitted.js';
import { fitPlotSvg } from '../../src/study/fit-plot.js';
import { studyPlots } from '../../src/study/plots.js';
import { studyRunFromJSON } from '../../src/study/report.js';
import { summarizeStudy } from '../../src/study/summary.js';
import { syntheticCell as cell } from './fixtures.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The browser: Debian's chromium (what .ci/run installs), else whatever `chromium` is on PATH. */
function chromiumPath(): string {
  for (const p of ['/usr/bin/chromium', '/usr/bin/chromium-browser']) if (existsSync(p)) return p;
  for (const dir of (process.env.PATH ?? '').split(':')) {
    for (const name of ['chromium', 'chromium-browser']) if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  throw new Error('plots-render: chromium not found; install Debian chromium (apt-get install chromium; .ci/run installs it)');
}

interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

interface Mark {
  panel: number;
  /** Polyline pieces in page pixels (lines and cross markers), or the box of a circle or square marker. */
  lines: [number, number][][];
  box: Box | null;
  what: string;
}

interface Measured {
  viewport: Box;
  plotAreas: Box[];
  legends: { panel: number; box: Box; styles: string[] }[];
  marks: Mark[];
  texts: { box: Box; text: string }[];
  pointLabels: { box: Box; text: string }[];
  xTicks: { panel: number; x: number; label: string }[];
}

/** Runs in the page: the geometry of the SVG's marks, legends and texts in page pixels. */
function measure(): Measured {
  const box = (r: DOMRect): Box => ({ x: r.x, y: r.y, w: r.width, h: r.height });
  const svg = document.querySelector('svg')!;
  const panels = [...svg.querySelectorAll('.panel')];
  const panelOf = (e: Element) => panels.indexOf(e.closest('.panel')!);
  const segments = (e: SVGGraphicsElement): [number, number][][] => {
    const m = e.getScreenCTM()!;
    const d = e.getAttribute('d') ?? '';
    const pieces: [number, number][][] = [];
    for (const [, cmd, x, y] of d.matchAll(/([ML])\s*(-?[\d.e+-]+)[\s,]+(-?[\d.e+-]+)/g)) {
      const p = new DOMPoint(Number(x), Number(y)).matrixTransform(m);
      if (cmd === 'M' || pieces.length === 0) pieces.push([]);
      pieces[pieces.length - 1]!.push([p.x, p.y]);
    }
    return pieces;
  };
  const marks = [...svg.querySelectorAll<SVGGraphicsElement>('.data-mark')].map((e) => {
    const isPath = e.tagName === 'path' || e.tagName === 'polyline';
    return {
      panel: panelOf(e),
      lines: isPath ? segments(e) : [],
      box: isPath ? null : box(e.getBoundingClientRect()),
      what: `${e.tagName} ${e.getAttribute('data-series') ?? ''}`,
    };
  });
  const styleOf = (entry: Element) =>
    [...entry.querySelectorAll('line, path, circle, rect, polygon')]
      .map(
        (s) => `${s.tagName}:${s.getAttribute('stroke') ?? ''}:${s.getAttribute('fill') ?? ''}:${s.getAttribute('stroke-dasharray') ?? ''}`,
      )
      .join('|');
  return {
    viewport: box(svg.getBoundingClientRect()),
    plotAreas: panels.map((p) => box(p.querySelector('.plot-area')!.getBoundingClientRect())),
    legends: [...svg.querySelectorAll('.legend')].map((l) => ({
      panel: panelOf(l),
      box: box(l.getBoundingClientRect()),
      styles: [...l.querySelectorAll('.legend-entry')].map(styleOf),
    })),
    marks,
    texts: [...svg.querySelectorAll('text')].map((t) => ({ box: box(t.getBoundingClientRect()), text: t.textContent ?? '' })),
    pointLabels: [...svg.querySelectorAll('.point-label')].map((t) => ({ box: box(t.getBoundingClientRect()), text: t.textContent ?? '' })),
    xTicks: [...svg.querySelectorAll('.x-tick')].map((t) => ({
      panel: panelOf(t),
      x: t.getBoundingClientRect().x + t.getBoundingClientRect().width / 2,
      label: t.textContent ?? '',
    })),
  };
}

const overlaps = (a: Box, b: Box) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
const inside = (a: Box, b: Box, tol: number) =>
  a.x >= b.x - tol && a.y >= b.y - tol && a.x + a.w <= b.x + b.w + tol && a.y + a.h <= b.y + b.h + tol;

/** Whether the segment p → q meets the box (Liang–Barsky clipping). */
function segmentMeetsBox(p: [number, number], q: [number, number], b: Box): boolean {
  let t0 = 0;
  let t1 = 1;
  const dx = q[0] - p[0];
  const dy = q[1] - p[1];
  const edges: [number, number][] = [
    [-dx, p[0] - b.x],
    [dx, b.x + b.w - p[0]],
    [-dy, p[1] - b.y],
    [dy, b.y + b.h - p[1]],
  ];
  for (const [pe, qe] of edges) {
    if (pe === 0) {
      if (qe < 0) return false;
    } else if (pe < 0) t0 = Math.max(t0, qe / pe);
    else t1 = Math.min(t1, qe / pe);
    if (t0 > t1) return false;
  }
  return true;
}

function markMeetsBox(m: Mark, b: Box): boolean {
  if (m.box) return overlaps(m.box, b);
  return m.lines.some((piece) =>
    piece.length === 1 ? segmentMeetsBox(piece[0]!, piece[0]!, b) : piece.slice(1).some((q, i) => segmentMeetsBox(piece[i]!, q, b)),
  );
}

function markInside(m: Mark, area: Box): boolean {
  if (m.box) return inside(m.box, area, 4.5); // a marker centred on the edge sticks out by its half-size
  const tol = 1;
  return m.lines.every((piece) =>
    piece.every(([x, y]) => x >= area.x - tol && x <= area.x + area.w + tol && y >= area.y - tol && y <= area.y + area.h + tol),
  );
}

/** What is wrong with one rendered plot (empty when nothing). */
function problems(g: Measured, name: string): string[] {
  const out: string[] = [];
  if (g.marks.length === 0) out.push(`${name}: no .data-mark elements`);
  if (g.legends.length === 0) out.push(`${name}: no .legend elements`);
  for (const l of g.legends) {
    for (const m of g.marks)
      if (markMeetsBox(m, l.box)) out.push(`${name}: legend of panel ${l.panel} covers ${m.what} (panel ${m.panel})`);
    const seen = new Set<string>();
    for (const s of l.styles) {
      if (seen.has(s)) out.push(`${name}: panel ${l.panel}: two legend entries look alike (${s})`);
      seen.add(s);
    }
  }
  for (const m of g.marks) {
    const area = g.plotAreas[m.panel];
    if (!area || !markInside(m, area)) out.push(`${name}: ${m.what} (panel ${m.panel}) leaves its plot area`);
  }
  for (const t of g.texts) if (!inside(t.box, g.viewport, 0.5)) out.push(`${name}: text '${t.text}' outside the SVG viewport`);
  g.pointLabels.forEach((a, i) => {
    for (const b of g.pointLabels.slice(i + 1)) if (overlaps(a.box, b.box)) out.push(`${name}: labels '${a.text}' and '${b.text}' overlap`);
  });
  return out;
}

function syntheticSummary() {
  const cells = [
    ...[3, 4, 5, 6, 7, 8].flatMap((k) => [
      cell('remez', k, Math.max(0, 8 - k) * 1.3, 60 * k),
      cell('chebyshev', k, Math.max(0, 8.5 - k), 55 * k + 20),
      cell('composite', k, Math.max(0, 7 - k) * 2, 70 * k),
    ]),
    ...['finetune', 'asymmetric'].flatMap((remedy) =>
      [4, 5, 6].map((k) => cell('remez', k, Math.max(0, 6 - k), 60 * k, { remedy: remedy as 'finetune' | 'asymmetric' })),
    ),
    ...['wd0', 'mixup', 'wd5e-4', 'l2', 'drop', 'aug', 'big', 'long', 'cos'].flatMap((technique) =>
      [4, 5, 6].map((k) => cell('remez', k, Math.max(0, 6.5 - k), 61 * k, { technique })),
    ),
  ];
  return summarizeStudy(cells, 0.5, 8);
}

function allSvgs(): [string, string][] {
  const results = JSON.parse(readFileSync(join(root, 'docs', 'study', 'results.json'), 'utf8')) as unknown;
  const committed = summarizeStudy(studyRunFromJSON(results).cells, 0.5);
  const relu = fitApproximation(activation('relu'), { interval: [-1, 1], method: 'remez', degree: 15 });
  const gelu = fitApproximation(activation('gelu'), { interval: [-8, 8], method: 'chebyshev', degree: 27 });
  return [
    ...studyPlots(committed).map((p): [string, string] => [`docs/study ${p.file}`, p.svg]),
    ...studyPlots(syntheticSummary()).map((p): [string, string] => [`synthetic ${p.file}`, p.svg]),
    ['fit relu', fitPlotSvg(relu)],
    ['fit gelu', fitPlotSvg(gelu)],
  ];
}

describe('rendered plots (headless Chromium)', () => {
  let browser: Browser;
  const measured = new Map<string, Measured>();

  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: chromiumPath() });
    const page = await browser.newPage();
    for (const [name, svg] of allSvgs()) {
      await page.setContent(`<!doctype html><html><body style="margin:0">${svg}</body></html>`);
      measured.set(name, await page.evaluate(measure));
    }
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('keeps legends off the data, data inside the plot area, texts inside the picture and point labels apart', () => {
    expect(measured.size).toBe(6);
    expect([...measured].flatMap(([name, g]) => problems(g, name))).toEqual([]);
  });

  it('labels every Pareto point of the trade-off plots', () => {
    for (const name of ['docs/study accuracy-vs-latency.svg', 'synthetic accuracy-vs-latency.svg']) {
      const labels = measured.get(name)!.pointLabels;
      expect(labels.length).toBeGreaterThan(0);
      for (const l of labels) expect(l.text).toMatch(/^k=\d+ (remez|chebyshev|composite)/);
    }
  });

  it('runs k from low to high precision left to right on the loss-vs-k panels', () => {
    for (const name of ['docs/study loss-vs-k.svg', 'synthetic loss-vs-k.svg']) {
      const ticks = measured.get(name)!.xTicks;
      expect(ticks.length).toBeGreaterThan(0);
      for (const p of new Set(ticks.map((t) => t.panel))) {
        const xs = ticks.filter((t) => t.panel === p).sort((a, b) => a.x - b.x);
        for (const t of xs) expect(t.label).toMatch(/^\d+$/); // k itself, not 2^-k
        for (let i = 1; i < xs.length; i++) expect(Number(xs[i]!.label)).toBeGreaterThan(Number(xs[i - 1]!.label));
      }
    }
  });
});
