import { describe, expect, it } from 'vitest';
import {
  clenshaw,
  evalApproximation,
  evalApproximationDerivative,
  evalChebyshev,
  evalChebyshevDerivative,
  type PolynomialApproximation,
} from '../../src/approx/polynomial.js';

describe('Chebyshev basis helpers', () => {
  const c = [0.3, -1.2, 0.7, 0.25, -0.05, 0.11];
  const direct = (t: number) => c.reduce((acc, cj, j) => acc + cj * Math.cos(j * Math.acos(t)), 0);

  it('Clenshaw equals the direct sum of c_j·cos(j·acos t), c0 not halved', () => {
    for (const t of [-1, -0.83, -0.2, 0, 0.41, 0.99, 1]) expect(clenshaw(c, t)).toBeCloseTo(direct(t), 13);
    expect(clenshaw([], 0.3)).toBe(0);
    expect(clenshaw([2.5], 0.3)).toBe(2.5);
  });

  it('maps [a, b] onto [-1, 1] and differentiates correctly', () => {
    const p = { interval: [-4, 2] as const, coefficients: c };
    for (const x of [-4, -3.1, -1, 0.5, 2]) {
      const t = (2 * x + 2) / 6;
      expect(evalChebyshev(p, x)).toBeCloseTo(direct(t), 13);
      const h = 1e-6;
      const fd = (evalChebyshev(p, x + h) - evalChebyshev(p, x - h)) / (2 * h);
      if (x > -4 && x < 2) expect(evalChebyshevDerivative(p, x)).toBeCloseTo(fd, 6);
    }
  });

  it('composes stages and finishes (relu from sign)', () => {
    // stage: t ↦ t on [-2, 2] scaled to sign-ish: p(x) = x/2 ; relu finish gives x(1 + x/2)/2
    const approx: PolynomialApproximation = {
      activation: 'relu',
      method: 'composite',
      interval: [-2, 2],
      stages: [{ interval: [-2, 2], coefficients: [0, 1] }],
      finish: 'relu',
    };
    for (const x of [-1.5, 0.3, 1.9]) {
      expect(evalApproximation(approx, x)).toBeCloseTo(0.5 * x * (1 + x / 2), 14);
      expect(evalApproximationDerivative(approx, x)).toBeCloseTo(0.5 + x / 2, 12);
    }
  });
});
