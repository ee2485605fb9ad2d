/**
 * The study's pictures (SVG, via svg.ts), one panel per network family (same architecture and activation):
 * - accuracy loss against the activation error bound 2^−k (log2 axis), one line per method, technique, remedy;
 * - PANN accuracy against predicted encrypted latency (log2 axis) for every measured cell, the Pareto front, and
 *   the SEAL-measured latency of the spot-checked cells.
 */
import { paretoFront } from './pareto.js';
import { type StudySummary, familyKey, familyTitle, networkLabel } from './summary.js';
import { type ChartSeries, type LineChartOptions, chartPanelsSvg } from './svg.js';

export interface StudyPlot {
  /** File name, e.g. loss-vs-k.svg. */
  file: string;
  title: string;
  svg: string;
}

const LOSS_CLIP = 10;
/** Widen a log2 axis by a fraction of a binade on each side, so edge points are not cut. */
const pad2 = (lo: number, hi: number) => ({ min: lo / 2 ** 0.3, max: hi * 2 ** 0.3 });
const DASHES = [undefined, '6 3', '2 3', '8 3 2 3'];

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
      x: pts.map((c) => 2 ** -c.cell.k),
      y: pts.map((c) => Math.min(LOSS_CLIP, c.pann!.lossPoints)),
      marker: 'circle' as const,
      ...(DASHES[Math.floor(i / 8) % DASHES.length] ? { dash: DASHES[Math.floor(i / 8) % DASHES.length]! } : {}),
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
    x: [2 ** -kMax, 2 ** -kMin],
    y: [summary.budgetPoints, summary.budgetPoints],
    color: '#555',
    dash: '4 4',
    width: 1,
  };
}

/** Loss vs 2^−k, per family: methods on the baseline network, then techniques and remedies. */
function lossPlot(summary: StudySummary): StudyPlot {
  const panels: LineChartOptions[] = [];
  const y = { label: `accuracy loss, points (clipped at ${LOSS_CLIP})`, min: -1, max: LOSS_CLIP };
  for (const fam of families(summary)) {
    const [kMin, kMax] = kRange(fam.series);
    const x = { label: 'activation error bound 2^-k (relative to B), log2 axis', log2: true, ...pad2(2 ** -kMax, 2 ** -kMin) };
    const reference = fam.series.filter(isReference);
    const others = fam.series.filter((s) => !isReference(s));
    if (reference.length) {
      panels.push({
        title: `${fam.title}: approximation methods (${networkLabel(reference[0]!.cells[0]!.cell)})`,
        x,
        y,
        legendPosition: 'top-left',
        series: [...lossSeries(reference, (s) => s.method), budgetLine(summary, kMin, kMax)],
      });
    }
    if (others.length) {
      const anchor = reference.filter((s) => others.some((o) => o.method === s.method));
      panels.push({
        title: `${fam.title}: training techniques and remedies`,
        x,
        y,
        legendPosition: 'top-left',
        series: [...lossSeries([...anchor, ...others], (s) => s.label), budgetLine(summary, kMin, kMax)],
      });
    }
  }
  return {
    file: 'loss-vs-k.svg',
    title: 'Accuracy loss against the activation precision',
    svg: chartPanelsSvg(panels, { title: `Accuracy loss vs precision 2^-k (budget ${summary.budgetPoints} points)`, width: 860 }),
  };
}

/** PANN accuracy vs predicted latency per family, with the Pareto front and SEAL-measured points. */
function tradeoffPlot(summary: StudySummary): StudyPlot {
  const panels: LineChartOptions[] = [];
  for (const fam of families(summary)) {
    const cells = fam.series.flatMap((s) => s.cells).filter((c) => c.status === 'ok' && c.pann && c.cost);
    if (!cells.length) continue;
    const pts = cells.map((c) => ({ latency: c.cost!.predictedLatencyMs, accuracy: 100 * c.pann!.accuracy }));
    const front = paretoFront(pts).map((i) => pts[i]!);
    const checked = cells.filter((c) => c.seal && !c.seal.error && Number.isFinite(c.seal.latencyMs.median));
    const floatAcc = Math.max(...cells.map((c) => 100 * c.float!.accuracy));
    const accs = pts.map((p) => p.accuracy);
    const series: ChartSeries[] = [
      { label: 'cells (predicted latency)', x: pts.map((p) => p.latency), y: accs, marker: 'circle', line: false, color: '#1f77b4' },
      { label: 'Pareto front', x: front.map((p) => p.latency), y: front.map((p) => p.accuracy), color: '#d62728', width: 2 },
    ];
    if (checked.length) {
      series.push({
        label: 'SEAL-measured latency (spot checks)',
        x: checked.map((c) => c.seal!.latencyMs.median),
        y: checked.map((c) => 100 * c.pann!.accuracy),
        marker: 'cross',
        line: false,
        color: '#2ca02c',
      });
    }
    const yMin = Math.max(0, Math.floor(Math.max(Math.min(...accs), floatAcc - 10) - 0.5));
    const xs = [...pts.map((p) => p.latency), ...checked.map((c) => c.seal!.latencyMs.median)];
    series.push({
      label: `float network ${floatAcc.toFixed(1)}%`,
      x: [Math.min(...xs), Math.max(...xs)],
      y: [floatAcc, floatAcc],
      color: '#555',
      dash: '4 4',
      width: 1,
    });
    panels.push({
      title: fam.title,
      x: { label: 'encrypted latency per digit, ms (log2 axis)', log2: true, ...pad2(Math.min(...xs), Math.max(...xs)) },
      legendPosition: 'bottom-right',
      y: { label: `PANN accuracy, % (from ${yMin.toFixed(0)}%)`, min: yMin, max: Math.min(100, floatAcc + 1) },
      series,
    });
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
