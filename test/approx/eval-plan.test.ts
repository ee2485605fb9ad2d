import { describe, expect, it } from 'vitest';
import { chebyshevEvalCost, evalPlanFloat, planChebyshev } from '../../src/approx/eval-plan.js';
import { clenshaw } from '../../src/approx/polynomial.js';

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
}

function coeffs(d: number, parity: 'none' | 'odd' | 'even' | 'even+linear', rnd: () => number): number[] {
  return Array.from({ length: d + 1 }, (_, j) => {
    if (parity === 'odd' && j % 2 === 0) return 0;
    if (parity === 'even' && j % 2 === 1) return 0;
    if (parity === 'even+linear' && j % 2 === 1 && j !== 1) return 0;
    return rnd() / (1 + j);
  });
}

describe('Chebyshev evaluation plan', () => {
  const rnd = lcg(7);
  const degrees = [1, 2, 3, 4, 5, 7, 8, 13, 15, 16, 27, 31, 32, 63, 100, 127];

  it('evaluates exactly the polynomial (float algebra vs Clenshaw) for every baby-step size and parity', () => {
    for (const d of degrees) {
      for (const parity of ['none', 'odd', 'even', 'even+linear'] as const) {
        const c = coeffs(d, parity, rnd);
        const maxLog = Math.ceil(Math.log2(d + 1));
        for (let l = 1; l <= maxLog; l++) {
          const plan = planChebyshev(c, { babyLog: l });
          for (const t of [-1, -0.77, -0.1, 0, 0.33, 0.91, 1]) {
            expect(evalPlanFloat(plan, t), `d=${d} ${parity} l=${l} t=${t}`).toBeCloseTo(clenshaw(c, t), 11);
          }
        }
      }
    }
  });

  it('reaches depth ceil(log2(d+1)) on a normalised input', () => {
    for (const d of degrees) {
      for (const parity of ['none', 'odd', 'even+linear'] as const) {
        const c = coeffs(d, parity, rnd);
        const dd = Math.max(...c.map((v, j) => (v !== 0 ? j : 0)));
        expect(chebyshevEvalCost(c).depth, `d=${dd} ${parity}`).toBe(Math.ceil(Math.log2(dd + 1)));
      }
    }
  });

  it('exploits parity: even (and even + linear, like ReLU) polynomials need far fewer multiplications', () => {
    const full = chebyshevEvalCost(coeffs(63, 'none', rnd));
    for (const parity of ['even', 'even+linear'] as const) {
      const even = chebyshevEvalCost(coeffs(62, parity, rnd));
      expect(even.depth).toBe(full.depth);
      expect(even.ctMultiplications).toBeLessThan(0.7 * full.ctMultiplications);
    }
    // odd polynomials keep the depth and never cost more than a full one
    const odd = chebyshevEvalCost(coeffs(63, 'odd', rnd));
    expect(odd.ctMultiplications).toBeLessThanOrEqual(chebyshevEvalCost(coeffs(63, 'none', rnd)).ctMultiplications);
  });

  it('larger baby steps trade a level for fewer multiplications', () => {
    const c = coeffs(127, 'none', rnd);
    const l1 = planChebyshev(c, { babyLog: 1 }).cost;
    const l3 = planChebyshev(c, { babyLog: 3 }).cost;
    expect(l3.depth).toBe(l1.depth + 1);
    expect(l3.ctMultiplications).toBeLessThan(l1.ctMultiplications / 2);
  });

  it('handles constants and rejects non-finite coefficients', () => {
    const p = planChebyshev([2.5]);
    expect(p.root).toBeNull();
    expect(p.cost.depth).toBe(0);
    expect(evalPlanFloat(p, 0.3)).toBe(2.5);
    expect(() => planChebyshev([1, NaN])).toThrow(/not finite/);
  });
});
