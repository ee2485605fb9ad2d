import { describe, expect, it } from 'vitest';
import { brentMaximize, lobattoGrid, parabolicMaximize, pieceExtrema, type Extremum } from '../../src/approx/extrema.js';

describe('extremum refinement', () => {
  it('parabolic steps from a sampled maximum reach the peak of a smooth curve to rounding in a few evaluations', () => {
    // a peak of cos(30x + 0.3) sampled 16 times per oscillation
    const h = (x: number) => Math.cos(30 * x + 0.3);
    const peak = (2 * Math.PI - 0.3) / 30;
    const step = (2 * Math.PI) / 30 / 16;
    const x0 = peak + 0.37 * step; // the grid point nearest the peak
    let calls = 0;
    const counted = (x: number) => {
      calls++;
      return h(x);
    };
    const one = parabolicMaximize(counted, x0 - step, h(x0 - step), x0, h(x0), x0 + step, h(x0 + step), 1);
    expect(calls).toBe(1);
    expect(1 - one.value).toBeLessThan(1e-5);
    expect(1 - one.value).toBeGreaterThan(0);
    calls = 0;
    const full = parabolicMaximize(counted, x0 - step, h(x0 - step), x0, h(x0), x0 + step, h(x0 + step), 6, 1e-7);
    expect(1 - full.value).toBeLessThan(1e-14);
    expect(Math.abs(full.x - peak)).toBeLessThan(1e-6);
    expect(calls).toBeLessThanOrEqual(5);
    calls = 0;
    const brent = brentMaximize(counted, x0 - step, x0 + step, x0, h(x0));
    expect(calls).toBeGreaterThan(4);
    expect(brent.value).toBeCloseTo(1, 14);
  });

  it('never returns a point worse than the start, and falls back to Brent when the parabola misleads', () => {
    // a kink: the parabola through the three samples points the wrong way
    const h = (x: number) => -Math.abs(x - 0.013) + (x > 0.013 ? -5 * (x - 0.013) : 0);
    const r = parabolicMaximize(h, -0.1, h(-0.1), 0, h(0), 0.1, h(0.1), 2);
    expect(r.value).toBeGreaterThanOrEqual(h(0));
    expect(Math.abs(r.x - 0.013)).toBeLessThan(1e-6);
  });

  it('approximate samples only place candidates: every value returned is an evaluation', () => {
    const e = (x: number) => Math.sin(7 * x) * (1 + 0.1 * x);
    const xs = lobattoGrid(-1, 1, 200);
    const noisy = Float64Array.from(xs, (x, i) => e(x) + (i % 3 === 0 ? 1e-9 : -1e-9));
    for (const refinement of ['brent', 'parabolic'] as const) {
      const found: Extremum[] = [];
      pieceExtrema(e, xs, noisy, found, { approximateSamples: true, refinement, parabolicSteps: 6, polishWithin: 1e-9 });
      expect(found.length).toBeGreaterThanOrEqual(4);
      for (const ex of found) expect(ex.value, `${refinement} at ${ex.x}`).toBe(e(ex.x));
      const top = Math.max(...found.map((ex) => Math.abs(ex.value)));
      // the largest |e| on [−1, 1] is at the end x = 1 (|sin 7|·1.1 = 0.7227) or an interior peak ≈ 1.1·(1 − …)
      let scan = 0;
      for (let i = 0; i <= 200000; i++) scan = Math.max(scan, Math.abs(e(-1 + i / 100000)));
      expect(top).toBeGreaterThanOrEqual(scan);
      expect(top - scan).toBeLessThan(1e-9);
    }
  });
});
