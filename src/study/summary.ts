/**
 * What a study's cells answer: per series (one network, technique, remedy, method, range rule and scale, over k)
 * the smallest k whose accuracy loss is within the budget; per network (model, technique, remedy) the cheapest
 * cell within budget and the latency it saves against a uniform high-precision baseline (k = 12 by default);
 * the SEAL spot checks' agreement with the simulator.
 */
import type { CellResult } from './cell-result.js';
import { type StudyCell, rangeLabel } from './grid.js';

export interface SeriesSummary {
  label: string;
  model: string;
  technique: string;
  remedy: string;
  method: string;
  range: string;
  scaleBits: string;
  /** The series' cells by increasing k. */
  cells: CellResult[];
  /** Smallest k with loss ≤ budget (null: none). */
  smallestK: number | null;
  /** Whether every measured cell above smallestK also stays within the budget. */
  holdsAbove: boolean;
}

export interface NetworkAnswer {
  label: string;
  model: string;
  technique: string;
  remedy: string;
  activations: string[];
  floatAccuracy: number;
  /** Lowest k within budget over every series of this network. */
  smallestK: number | null;
  /** Within budget with the lowest predicted latency. */
  best: CellResult | null;
  /** Uniform k = baselineK: the same method and settings as `best` when measured or costed, else the cheapest such cell. */
  baseline: CellResult | null;
  /** Predicted latency saved by `best` against `baseline`, ms. */
  savedMs: number | null;
  /** When nothing is within budget: the measured cell with the smallest loss. */
  closest: CellResult | null;
}

export interface StudySummary {
  budgetPoints: number;
  baselineK: number;
  series: SeriesSummary[];
  networks: NetworkAnswer[];
  seal: { cells: number; sample: number; agreeWithSim: number; agreeWithFloat: number; failed: number };
  counts: { ok: number; costed: number; failed: number };
}

/** "mnist-cnn-relu (baseline, finetune)": how reports name a network. */
export function networkLabel(c: StudyCell): string {
  const file = c.model.path
    .split('/')
    .pop()!
    .replace(/\.json$/, '');
  return c.remedy === 'none' ? `${file} (${c.model.technique})` : `${file} (${c.model.technique}, ${c.remedy})`;
}

/** A series' label: network, method, and the range/scale when not the defaults. */
export function seriesLabel(c: StudyCell): string {
  const extras: string[] = [c.method];
  if (c.range.rule !== 'max' || c.range.margin !== 1.1) extras.push(rangeLabel(c.range));
  if (c.scaleBits !== 'auto') extras.push(`scale ${c.scaleBits}`);
  return `${networkLabel(c)} ${extras.join(', ')}`;
}

const DISPLAY_NAMES: Record<string, string> = { relu: 'ReLU', ulu: 'ULU', aulu: 'AULU', gelu: 'GELU', silu: 'SiLU', abs: '|x|' };

/** Network family of a cell: same architecture (layer types) and activation names. */
export function familyKey(r: CellResult): string {
  return r.model ? `${r.model.architecture}|${[...new Set(r.model.activations)].join(',')}` : r.cell.model.path;
}

/** A family's title, e.g. "ReLU CNN, 2 activation layers" or "ReLU CNN, 1 polynomial layer (a PANN)". */
export function familyTitle(r: CellResult): string {
  if (!r.model) return r.cell.model.path;
  const acts = [...new Set(r.model.activations)].map((a) => DISPLAY_NAMES[a] ?? a).join('/');
  const types = r.model.architecture.split('-');
  const kind = types.includes('conv2d') ? 'CNN' : 'MLP';
  const poly = types.filter((t) => t === 'polynomial').length;
  const act = types.filter((t) => t === 'activation').length;
  return poly
    ? `${acts} ${kind}, ${poly} polynomial layer${poly > 1 ? 's' : ''} (a PANN)`
    : `${acts} ${kind}, ${act} activation layer${act > 1 ? 's' : ''}`;
}

function withinBudget(r: CellResult, budget: number): boolean {
  return r.status === 'ok' && r.pann !== undefined && r.pann.lossPoints <= budget + 1e-9;
}

function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const it of items) {
    const k = key(it);
    const list = m.get(k);
    if (list) list.push(it);
    else m.set(k, [it]);
  }
  return m;
}

function networkKey(c: StudyCell): string {
  return `${c.model.path}|${c.model.technique}|${c.remedy}`;
}

function seriesKey(c: StudyCell): string {
  return `${networkKey(c)}|${c.method}|${rangeLabel(c.range)}|${c.scaleBits}`;
}

/** Summarise cells against a loss budget in accuracy points. */
export function summarizeStudy(cells: readonly CellResult[], budgetPoints = 0.5, baselineK = 12): StudySummary {
  const series: SeriesSummary[] = [...groupBy(cells, (r) => seriesKey(r.cell)).values()].map((rs) => {
    const sorted = [...rs].sort((a, b) => a.cell.k - b.cell.k);
    const first = sorted.find((r) => withinBudget(r, budgetPoints));
    const c = sorted[0]!.cell;
    return {
      label: seriesLabel(c),
      model: c.model.path,
      technique: c.model.technique,
      remedy: c.remedy,
      method: c.method,
      range: rangeLabel(c.range),
      scaleBits: String(c.scaleBits),
      cells: sorted,
      smallestK: first ? first.cell.k : null,
      holdsAbove: first ? sorted.every((r) => r.cell.k <= first.cell.k || r.status !== 'ok' || withinBudget(r, budgetPoints)) : false,
    };
  });
  const networks: NetworkAnswer[] = [...groupBy(cells, (r) => networkKey(r.cell)).values()].map((rs) => {
    const c = rs[0]!.cell;
    const ok = rs.filter((r) => withinBudget(r, budgetPoints));
    const latency = (r: CellResult) => r.cost?.predictedLatencyMs ?? Infinity;
    const best = ok.length
      ? ok.reduce((a, b) => (latency(b) < latency(a) || (latency(b) === latency(a) && b.cell.k < a.cell.k) ? b : a))
      : null;
    const atBaseline = rs.filter((r) => r.cell.k === baselineK && r.cost);
    const same = best ? atBaseline.find((r) => seriesKey(r.cell) === seriesKey(best.cell)) : undefined;
    const baseline = same ?? (atBaseline.length ? atBaseline.reduce((a, b) => (latency(b) < latency(a) ? b : a)) : null);
    const measured = rs.filter((r) => r.status === 'ok' && r.pann);
    const closest = best || !measured.length ? null : measured.reduce((a, b) => (b.pann!.lossPoints < a.pann!.lossPoints ? b : a));
    const anyFloat = rs.find((r) => r.float);
    return {
      label: networkLabel(c),
      model: c.model.path,
      technique: c.model.technique,
      remedy: c.remedy,
      activations: rs.find((r) => r.model)?.model?.activations ?? [],
      floatAccuracy: anyFloat?.float?.accuracy ?? NaN,
      smallestK: ok.length ? Math.min(...ok.map((r) => r.cell.k)) : null,
      best,
      baseline,
      savedMs: best && baseline?.cost ? baseline.cost.predictedLatencyMs - best.cost!.predictedLatencyMs : null,
      closest,
    };
  });
  const checked = cells.filter((r) => r.seal);
  const sealOk = checked.filter((r) => !r.seal!.error);
  return {
    budgetPoints,
    baselineK,
    series,
    networks,
    seal: {
      cells: sealOk.length,
      sample: sealOk.reduce((a, r) => a + r.seal!.sample, 0),
      agreeWithSim: sealOk.reduce((a, r) => a + r.seal!.agreeWithSim, 0),
      agreeWithFloat: sealOk.reduce((a, r) => a + r.seal!.agreeWithFloat, 0),
      failed: checked.length - sealOk.length,
    },
    counts: {
      ok: cells.filter((r) => r.status === 'ok').length,
      costed: cells.filter((r) => r.status === 'costed').length,
      failed: cells.filter((r) => r.status === 'failed').length,
    },
  };
}
