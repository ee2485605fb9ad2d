import { describe, expect, it } from 'vitest';
import { paretoFront } from '../../src/study/pareto.js';
import { summarizeStudy } from '../../src/study/summary.js';
import { syntheticCell as cell } from './fixtures.js';

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
    expect(n.best!.id).toBe('baseline-none-remez-5'); // 150 ms beats chebyshev k=4 at 160 ms
    expect(n.baseline!.id).toBe('baseline-none-remez-12'); // same series, costed
    expect(n.savedMs).toBe(850);
    expect(n.closest).toBeNull();
    expect(s.counts).toEqual({ ok: 5, costed: 1, failed: 1 });
  });

  it('reports the closest cell when nothing meets the budget', () => {
    const s = summarizeStudy(cells, 0.05, 12);
    expect(s.networks[0]!.best).toBeNull();
    expect(s.networks[0]!.closest!.id).toBe('baseline-none-remez-7');
  });
});
