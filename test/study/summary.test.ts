import { describe, expect, it } from 'vitest';
import type { CellResult } from '../../src/study/cell.js';
import { paretoFront } from '../../src/study/pareto.js';
import { summarizeStudy } from '../../src/study/summary.js';

/** A measured cell with just what the summary reads. */
function cell(method: string, k: number, loss: number | null, latency: number, opts: { status?: CellResult['status']; technique?: string } = {}): CellResult {
  const status = opts.status ?? (loss === null ? 'failed' : 'ok');
  const c: CellResult = {
    id: `${method}-${k}`,
    key: `${method}-${k}`,
    cell: {
      id: `${method}-${k}`,
      model: { path: 'models/net.json', technique: opts.technique ?? 'baseline' },
      k,
      method: method as CellResult['cell']['method'],
      remedy: 'none',
      range: { rule: 'max', margin: 1.1, percentile: 99.9 },
      scaleBits: 'auto',
    },
    status,
    float: { accuracy: 0.98, correct: 980, count: 1000 },
    timing: { finetuneMs: 0, compileMs: 0, simMs: 0, totalMs: 0 },
    notes: [],
  };
  if (status !== 'failed') {
    c.cost = {
      activations: [{ method, degrees: [k], B: 1, log2Error: -k, depth: 3 }],
      depth: 6,
      ringDimension: 8192,
      coeffModulusBits: [],
      totalModulusBits: 0,
      scaleBits: 30,
      rotations: 0,
      rotationKeys: 0,
      ctMultiplications: 0,
      plainMultiplications: 0,
      predictedLatencyMs: latency,
      galoisKeyBytes: 0,
    };
  }
  if (status === 'ok') c.pann = { accuracy: 0.98 - loss! / 100, correct: 0, count: 1000, lossPoints: loss!, agreement: 1 };
  if (status === 'failed') c.error = { stage: 'compile', code: 'compile', message: 'too deep' };
  return c;
}

describe('paretoFront', () => {
  it('keeps the points no other point beats on both latency and accuracy', () => {
    const pts = [
      { latency: 100, accuracy: 0.9 },
      { latency: 200, accuracy: 0.95 },
      { latency: 150, accuracy: 0.85 }, // dominated by the first
      { latency: 300, accuracy: 0.95 }, // dominated by the second (same accuracy, slower)
      { latency: 400, accuracy: 0.99 },
      { latency: NaN, accuracy: 1 },
    ];
    expect(paretoFront(pts)).toEqual([0, 1, 4]);
    expect(paretoFront([])).toEqual([]);
  });
});

describe('summarizeStudy', () => {
  const cells = [
    cell('remez', 4, 5, 100),
    cell('remez', 5, 0.4, 150),
    cell('remez', 6, 0.6, 200), // above budget again: not "holds above"
    cell('remez', 7, 0.1, 250),
    cell('remez', 12, null, 0, { status: 'costed' }),
    cell('chebyshev', 4, 0.3, 160),
    cell('chebyshev', 12, null, 0),
  ];
  cells[4]!.cost!.predictedLatencyMs = 1000;

  it('finds the smallest k within budget per series and the cheapest cell per network', () => {
    const s = summarizeStudy(cells, 0.5, 12);
    const remez = s.series.find((x) => x.method === 'remez')!;
    expect(remez.smallestK).toBe(5);
    expect(remez.holdsAbove).toBe(false);
    expect(s.series.find((x) => x.method === 'chebyshev')!.smallestK).toBe(4);
    expect(s.networks).toHaveLength(1);
    const n = s.networks[0]!;
    expect(n.smallestK).toBe(4);
    expect(n.best!.id).toBe('remez-5'); // 150 ms beats chebyshev k=4 at 160 ms
    expect(n.baseline!.id).toBe('remez-12'); // same series, costed
    expect(n.savedMs).toBe(850);
    expect(n.closest).toBeNull();
    expect(s.counts).toEqual({ ok: 5, costed: 1, failed: 1 });
  });

  it('reports the closest cell when nothing meets the budget', () => {
    const s = summarizeStudy(cells, 0.05, 12);
    expect(s.networks[0]!.best).toBeNull();
    expect(s.networks[0]!.closest!.id).toBe('remez-7');
  });
});
