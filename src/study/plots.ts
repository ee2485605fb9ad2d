/**
 * The study's pictures (SVG, via svg.ts), one panel per network family (same architecture and activation):
 * - accuracy loss against the activation precision k (error bound 2^−k; low precision on the left), one line per
 *   method, technique, remedy;
 * - PANN accuracy against predicted encrypted latency (log2 axis) for every measured cell, the Pareto front with
 *   each of its points labelled (k, method), and the SEAL-measured latency of the spot-checked cells. The y axis
 *   starts near the float accuracy; cells below it are counted in the legend, and the front is that of the cells
 *   shown, so it stays inside the axes.
 */
import { paretoFront } from './pareto.js';
import { type StudySummary, familyKey, familyTitle, networkLabel } from './summary.js';
import { type ChartSeries, type LineChartOptions, categoricalStyle, chartPanelsSvg } from './svg.js';

export interface StudyPlot {
  /** File name, e.g. loss-vs-k.svg. */
  file: string;
  title: string;
  svg: string;
}

const LOSS_CLIP = 10;
/** Widen a log2 axis by a fraction of a binade on each side, so edge points are not cut. */
const pad2 = (lo: number, hi: number) => ({ min: lo / 2 ** 0.3, max: hi * 2 ** 0.3 });

function families(summary: StudySummary): { title: string; series: StudySummary['series'] }[] {
  const m = new Map<string, { title: string; series: StudySummary['series'] }>();
  for (const s of summary.series) {
    const any = s.cells.find((c) => c.model) ?? s.cells[0]!;
    const key = familyKey(any);
    const entry = m.get(key) ?? { title: familyTitle(any), series: [] };
    entry.series.push(s);
    m.set(key, entry);
  }
  return [...m.values()];
}

function isReference(s: StudySummary['series'][number]): boolean {
  return s.technique === 'baseline' && s.remedy === 'none' && s.range === 'max×1.1' && s.scaleBits === 'auto';
}

function lossSeries(list: StudySummary['series'], label: (s: StudySummary['series'][number]) => string): ChartSeries[] {
  return list.map((s, i) => {
    const pts = s.cells.filter((c) => c.status === 'ok' && c.pann);
    return {
      label: label(s),
      x: pts.map((c) => c.cell.k),
      y: pts.map((c) => Math.min(LOSS_CLIP, c.pann!.lossPoints)),
      ...categoricalStyle(i),
    };
  });
}

/** The k range of a panel's measured cells. */
function kRange(list: StudySummary['series']): [number, number] {
  const ks = list.flatMap((s) => s.cells.filter((c) => c.status === 'ok').map((c) => c.cell.k));
  return ks.length ? [Math.min(...ks), Math.max(...ks)] : [1, 2];
}

function budgetLine(summary: StudySummary, kMin: number, kMax: number): ChartSeries {
  return {
    label: `budget ${summary.budgetPoints} points`,
    x: [kMin, kMax],
    y: [summary.budgetPoints, summary.budgetPoints],
    color: '#555',
    dash: '4 4',
    width: 1,
  };
}

/** The lowest loss drawn: −1 point, or lower when a cell did better than that against the float network. */
function lossFloor(list: StudySummary['series']): number {
  const losses = list.flatMap((s) => s.cells.filter((c) => c.status === 'ok' && c.pann).map((c) => c.pann!.lossPoints));
  return Math.min(-1, Math.floor(Math.min(...losses.filter(Number.isFinite))));
}

/** Loss vs k (low precision on the left), per family: methods on the baseline network, then techniques and remedies. */
function lossPlot(summary: StudySummary): StudyPlot {
  const panels: LineChartOptions[] = [];
  for (const fam of families(summary)) {
    const [kMin, kMax] = kRange(fam.series);
    const y = { label: `accuracy loss, points (clipped at ${LOSS_CLIP})`, min: lossFloor(fam.series), max: LOSS_CLIP };
    const ticks = Array.from({ length: kMax - kMin + 1 }, (_, i) => kMin + i);
    const x = { label: 'activation precision k: error bound 2^-k (relative to B)', min: kMin - 0.5, max: kMax + 0.5, ticks };
    const reference = fam.series.filter(isReference);
    const others = fam.series.filter((s) => !isReference(s));
    if (reference.length) {
      panels.push({
        title: `${fam.title}: approximation methods (${networkLabel(reference[0]!.cells[0]!.cell)})`,
        x,
        y,
        series: [...lossSeries(reference, (s) => s.method), budgetLine(summary, kMin, kMax)],
      });
    }
    if (others.length) {
      const anchor = reference.filter((s) => others.some((o) => o.method === s.method));
      panels.push({
        title: `${fam.title}: training techniques and remedies`,
        x,
        y,
        series: [...lossSeries([...anchor, ...others], (s) => s.label), budgetLine(summary, kMin, kMax)],
      });
    }
  }
  return {
    file: 'loss-vs-k.svg',
    title: 'Accuracy loss against the activation precision',
    svg: chartPanelsSvg(panels, { title: `Accuracy loss vs precision k (budget ${summary.budgetPoints} points)`, width: 720 }),
  };
}

type Cell = StudySummary['series'][number]['cells'][number];

/** A Pareto point's label: k and method, and the network's technique or remedy when not the baseline's. */
function frontLabel(c: Cell): string {
  const variant = [c.cell.model.technique, c.cell.remedy].filter((v) => v !== 'baseline' && v !== 'none');
  return `k=${c.cell.k} ${c.cell.method}${variant.length ? ` (${variant.join(', ')})` : ''}`;
}

/** One family's accuracy/latency panel: the cells above the axis floor, their Pareto front (labelled), spot checks. */
function tradeoffPanel(title: string, cells: Cell[]): LineChartOptions {
  const accuracy = (c: Cell) => 100 * c.pann!.accuracy;
  const floatAcc = Math.max(...cells.map((c) => 100 * c.float!.accuracy));
  const yMin = Math.max(0, Math.floor(Math.max(Math.min(...cells.map(accuracy)), floatAcc - 10) - 0.5));
  const yMax = Math.min(100, Math.max(floatAcc, ...cells.map(accuracy)) + 1);
  const shown = cells.filter((c) => accuracy(c) >= yMin);
  const below = cells.length - shown.length;
  const front = paretoFront(shown.map((c) => ({ latency: c.cost!.predictedLatencyMs, accuracy: accuracy(c) }))).map((i) => shown[i]!);
  const checked = shown.filter((c) => c.seal && !c.seal.error && Number.isFinite(c.seal.latencyMs.median));
  const xs = [...shown.map((c) => c.cost!.predictedLatencyMs), ...checked.map((c) => c.seal!.latencyMs.median)];
  const series: ChartSeries[] = [
    {
      label: `cells (predicted latency)${below ? `; ${below} below ${yMin}% not shown` : ''}`,
      x: shown.map((c) => c.cost!.predictedLatencyMs),
      y: shown.map(accuracy),
      marker: 'circle',
      line: false,
      color: categoricalStyle(0).color,
    },
    {
      label: 'Pareto front (k, method)',
      x: front.map((c) => c.cost!.predictedLatencyMs),
      y: front.map(accuracy),
      pointLabels: front.map(frontLabel),
      color: categoricalStyle(2).color,
      width: 2,
    },
  ];
  if (checked.length) {
    series.push({
      label: 'SEAL-measured latency (spot checks)',
      x: checked.map((c) => c.seal!.latencyMs.median),
      y: checked.map(accuracy),
      marker: 'cross',
      line: false,
      color: categoricalStyle(4).color,
    });
  }
  series.push({
    label: `float network ${floatAcc.toFixed(1)}%`,
    x: [Math.min(...xs), Math.max(...xs)],
    y: [floatAcc, floatAcc],
    color: '#555',
    dash: '4 4',
    width: 1,
  });
  return {
    title,
    x: { label: 'encrypted latency per digit, ms (log2 axis)', log2: true, ...pad2(Math.min(...xs), Math.max(...xs)) },
    y: { label: `PANN accuracy, % (from ${yMin.toFixed(0)}%)`, min: yMin, max: yMax },
    series,
  };
}

/** PANN accuracy vs predicted latency per family, with the Pareto front and SEAL-measured points. */
function tradeoffPlot(summary: StudySummary): StudyPlot {
  const panels: LineChartOptions[] = [];
  for (const fam of families(summary)) {
    const cells = fam.series.flatMap((s) => s.cells).filter((c) => c.status === 'ok' && c.pann && c.cost);
    if (cells.length) panels.push(tradeoffPanel(fam.title, cells));
  }
  return {
    file: 'accuracy-vs-latency.svg',
    title: 'Accuracy against encrypted latency',
    svg: chartPanelsSvg(panels, { title: 'PANN accuracy vs encrypted latency (Pareto front)', width: 860 }),
  };
}

/** Every plot of a study. */
export function studyPlots(summary: StudySummary): StudyPlot[] {
  return [lossPlot(summary), tradeoffPlot(summary)];
}
