import { describe, expect, it } from 'vitest';
import { parseActivation } from '../../src/approx/activations.js';
import { chebyshevInterpolant } from '../../src/approx/chebyshev.js';
import { measureErrorCurve, measureMaxError, sampledMaxError } from '../../src/approx/max-error.js';
import { evalApproximation, evalChebyshev, type ChebyshevPolynomial } from '../../src/approx/polynomial.js';
import { fitMinimax } from '../../src/approx/remez.js';

const single = (p: ChebyshevPolynomial) => ({
  activation: 'f',
  method: 'remez' as const,
  interval: p.interval,
  stages: [p],
  finish: 'none' as const,
});

describe('measured max error', () => {
  it('the FFT-sampled path finds what direct sampling finds (a near-equioscillating fit, one-sided values at the kink)', () => {
    for (const [spec, B, d] of [
      ['ulu:a1=2,a2=0.5', 16, 241],
      ['relu', 1, 144],
      ['gelu', 8, 20],
    ] as const) {
      const act = parseActivation(spec);
      const f = (x: number) => act.f(x);
      const r = fitMinimax(f, { intervals: [[-B, B]], degree: d, parity: act.parity });
      const fast = measureMaxError(f, single(r.polynomial));
      const samples = Math.max(2048, 20 * (d + 1));
      const direct = measureErrorCurve((x) => f(x) - evalChebyshev(r.polynomial, x), [[-B, B]], samples);
      expect(Math.abs(fast.maxError - direct.maxError) / direct.maxError, spec).toBeLessThan(1e-8);
      expect(fast.samples, spec).toBeGreaterThanOrEqual(2 * samples);
      // the figure is an evaluation of f − p at the point reported
      expect(Math.abs(fast.at.value)).toBe(fast.maxError);
      expect(fast.at.value).toBe(f(fast.at.x) - evalApproximation(single(r.polynomial), fast.at.x));
    }
  });

  it('a one-sided jump at a breakpoint is seen on the fast path (sign at 0)', () => {
    const sign = (x: number) => (x > 0 ? 1 : x < 0 ? -1 : 0);
    const p = { interval: [-1, 1] as const, coefficients: [0, 1, 0, -0.2] };
    const m = measureMaxError(sign, single(p));
    // |sign − p| is largest just right of 0, where p → 0: 1 (one-sided value at the nudged point)
    expect(m.maxError).toBeCloseTo(1, 12);
  });

  it('the sampled estimate is a lower bound within a few percent of the measurement', () => {
    const gelu = parseActivation('gelu');
    const f = (x: number) => gelu.f(x);
    for (const d of [12, 30, 64]) {
      const p = chebyshevInterpolant(f, [-8, 8], d, { parity: gelu.parity });
      const measured = measureMaxError(f, single(p)).maxError;
      const sampled = sampledMaxError(f, p);
      expect(sampled, `degree ${d}`).toBeLessThanOrEqual(measured);
      expect(sampled / measured, `degree ${d}`).toBeGreaterThan(0.97);
    }
    expect(() => sampledMaxError(() => NaN, { interval: [-1, 1], coefficients: [0, 1] })).toThrow(/error is NaN/);
  });
});
