import { describe, expect, it } from 'vitest';
import { parseActivation } from '../../src/approx/activations.js';
import { measureMaxError } from '../../src/approx/max-error.js';
import { evalChebyshev, type ChebyshevPolynomial } from '../../src/approx/polynomial.js';
import { asymmetricWeight, fitMinimax, type MinimaxResult } from '../../src/approx/remez.js';

const single = (p: ChebyshevPolynomial) => ({
  activation: 'f',
  method: 'remez' as const,
  interval: p.interval,
  stages: [p],
  finish: 'none' as const,
});

/** Equioscillation: the reference alternates in sign and every |error| there equals the measured max to 1e-6. */
function expectEquioscillation(r: MinimaxResult, f: (x: number) => number, points: number, label: string): number {
  expect(r.converged, `${label}: converged (${r.stopReason})`).toBe(true);
  const measured = measureMaxError(f, single(r.polynomial)).maxError;
  expect(r.reference.length, `${label}: reference size`).toBe(points);
  for (let i = 0; i < r.reference.length; i++) {
    const e = r.reference[i]!;
    // the stored value is the error there; recompute it independently
    const err = f(e.x) - evalChebyshev(r.polynomial, e.x);
    expect(Math.abs(err - e.value), `${label}: reference value at ${e.x}`).toBeLessThan(1e-12 * Math.max(1, Math.abs(f(e.x))));
    expect(Math.abs(Math.abs(err) - measured) / measured, `${label}: |e| at ${e.x}`).toBeLessThan(2e-6);
    if (i > 0) expect(Math.sign(err), `${label}: alternation at ${i}`).toBe(-Math.sign(r.reference[i - 1]!.value));
  }
  expect(Math.abs(r.levelledError - measured) / measured, `${label}: levelled vs measured`).toBeLessThan(2e-6);
  return measured;
}

describe('Remez minimax', () => {
  it('|x| at degree 2 is x² + 1/8 with error 1/8', () => {
    const abs = parseActivation('abs');
    const r = fitMinimax((x) => abs.f(x), { intervals: [[-1, 1]], degree: 2, parity: abs.parity });
    for (const x of [-1, -0.6, -0.1, 0, 0.35, 0.9, 1]) expect(evalChebyshev(r.polynomial, x)).toBeCloseTo(x * x + 0.125, 14);
    expect(r.levelledError).toBeCloseTo(0.125, 14);
    expect(measureMaxError((x) => Math.abs(x), single(r.polynomial)).maxError).toBeCloseTo(0.125, 14);
    // and without the parity hint (full basis), the same polynomial
    const full = fitMinimax((x) => Math.abs(x), { intervals: [[-1, 1]], degree: 2 });
    for (const x of [-0.7, 0.2, 1]) expect(evalChebyshev(full.polynomial, x)).toBeCloseTo(x * x + 0.125, 7);
  });

  it('equioscillates for ReLU, |x|, ULU and GELU at several degrees', () => {
    const cases: [string, [number, number], number, number][] = [
      // spec, interval, degree, alternation points (full basis d+2; parity: free coefficients + 1)
      ['relu', [-1, 1], 10, 7],
      ['relu', [-1, 1], 40, 22],
      ['abs', [-1, 1], 16, 10],
      ['abs', [-2, 2], 64, 34],
      ['ulu:a1=0.5,a2=2', [-4, 4], 12, 14],
      ['ulu:a1=0.5,a2=2', [-4, 4], 30, 32],
      ['ulu:a1=1,a2=1', [-8, 8], 20, 12],
      ['gelu', [-8, 8], 10, 7],
      ['gelu', [-8, 8], 24, 14],
    ];
    for (const [spec, iv, d, points] of cases) {
      const a = parseActivation(spec);
      const f = (x: number) => a.f(x);
      const r = fitMinimax(f, { intervals: [iv], degree: d, parity: a.parity });
      expectEquioscillation(r, f, points, `${spec} degree ${d}`);
    }
  });

  it('the error decreases as the degree rises, like β/n for |x| (Bernstein constant β ≈ 0.2802)', () => {
    for (const spec of ['relu', 'gelu', 'ulu:a1=0.3,a2=1.5']) {
      const a = parseActivation(spec);
      let prev = Infinity;
      for (const d of [4, 8, 16, 32, 64]) {
        const r = fitMinimax((x) => a.f(x), { intervals: [[-4, 4]], degree: d, parity: a.parity });
        const e = measureMaxError((x) => a.f(x), single(r.polynomial)).maxError;
        expect(e, `${spec} degree ${d}`).toBeLessThan(prev);
        prev = e;
      }
    }
    const r = fitMinimax((x) => Math.abs(x), { intervals: [[-1, 1]], degree: 256, parity: { symmetry: 'even', poly: [] } });
    expect(r.levelledError * 256).toBeGreaterThan(0.27);
    expect(r.levelledError * 256).toBeLessThan(0.29);
  });

  it('exploits parity: only even (ReLU: plus c_1 = 1/2) or odd coefficients are nonzero', () => {
    const relu = parseActivation('relu');
    const r = fitMinimax((x) => relu.f(x), { intervals: [[-1, 1]], degree: 20, parity: relu.parity });
    expect(r.reducedBasis).toBe(true);
    expect(r.parity).toBe('none');
    expect(r.polynomial.coefficients[1]).toBe(0.5);
    for (let j = 3; j <= 20; j += 2) expect(r.polynomial.coefficients[j]).toBe(0);
    const tanh = parseActivation('tanh');
    const t = fitMinimax(Math.tanh, { intervals: [[-3, 3]], degree: 15, parity: tanh.parity });
    expect(t.parity).toBe('odd');
    // an asymmetric interval cannot use the hint
    expect(fitMinimax((x) => relu.f(x), { intervals: [[-1, 2]], degree: 8, parity: relu.parity }).reducedBasis).toBe(false);
  });

  it('honours a weight: with weight 4 on x < 0 the negative-side error is a quarter of the positive one', () => {
    const relu = parseActivation('relu');
    const f = (x: number) => relu.f(x);
    for (const d of [9, 30]) {
      const w = fitMinimax(f, { intervals: [[-1, 1]], degree: d, weight: asymmetricWeight(4) });
      expect(w.converged).toBe(true);
      const neg = measureMaxError(f, single(w.polynomial), { intervals: [[-1, 0]] }).maxError;
      const pos = measureMaxError(f, single(w.polynomial), { intervals: [[0, 1]] }).maxError;
      expect(Math.abs((4 * neg) / pos - 1)).toBeLessThan(1e-5);
      const plain = fitMinimax(f, { intervals: [[-1, 1]], degree: d });
      const plainNeg = measureMaxError(f, single(plain.polynomial), { intervals: [[-1, 0]] }).maxError;
      expect(neg).toBeLessThan(plainNeg);
    }
  });

  it('fits on a union of intervals (sign on [-1, -0.1] ∪ [0.1, 1]) and equioscillates there', () => {
    const sign = (x: number) => Math.sign(x);
    const r = fitMinimax(sign, {
      intervals: [
        [0.1, 1],
        [-1, -0.1],
      ],
      degree: 9,
      parity: { symmetry: 'odd', poly: [] },
    });
    expect(r.converged).toBe(true);
    const m = measureMaxError(sign, single(r.polynomial), {
      intervals: [
        [-1, -0.1],
        [0.1, 1],
      ],
    }).maxError;
    expect(Math.abs(m - r.levelledError) / m).toBeLessThan(2e-6);
    expect(r.reference.length).toBe(6);
    // the same without the parity reduction
    const full = fitMinimax(sign, {
      intervals: [
        [-1, -0.1],
        [0.1, 1],
      ],
      degree: 9,
    });
    expect(Math.abs(full.levelledError - r.levelledError) / m).toBeLessThan(1e-5);
  });

  it('stops at the iteration cap with the best iterate, flagged unconverged', () => {
    const r = fitMinimax((x) => Math.abs(x), { intervals: [[-1, 1]], degree: 40, maxIterations: 1 });
    expect(r.converged).toBe(false);
    expect(r.stopReason).toBe('max-iterations');
    expect(r.iterations).toBe(1);
    expect(Number.isFinite(r.maxWeightedError)).toBe(true);
  });

  it('warm start: the reference of a neighbouring degree gives the same minimax error in fewer iterations', () => {
    const ulu = parseActivation('ulu:a1=0.5,a2=2');
    const f = (x: number) => ulu.f(x);
    const near = fitMinimax(f, { intervals: [[-8, 8]], degree: 119 });
    const cold = fitMinimax(f, { intervals: [[-8, 8]], degree: 121 });
    const warm = fitMinimax(f, { intervals: [[-8, 8]], degree: 121, initialReference: near.reference.map((e) => e.x) });
    expect(warm.converged && cold.converged).toBe(true);
    expect(warm.iterations).toBeLessThan(cold.iterations);
    expect(Math.abs(warm.levelledError / cold.levelledError - 1)).toBeLessThan(2e-6);
    expectEquioscillation(warm, f, 123, 'warm-started ULU degree 121');
  });

  it('fits sharing a sample cache (one f, degrees on the same grid) give exactly what fits without it give', () => {
    const ulu = parseActivation('ulu:a1=0.3,a2=1.5');
    const f = (x: number) => ulu.f(x);
    const samples = new Map();
    let calls = 0;
    const counted = (x: number) => {
      calls++;
      return f(x);
    };
    for (const degree of [70, 71, 72]) {
      const shared = fitMinimax(counted, { intervals: [[-8, 8]], degree, samples });
      const alone = fitMinimax(f, { intervals: [[-8, 8]], degree });
      expect(Array.from(shared.polynomial.coefficients)).toEqual(Array.from(alone.polynomial.coefficients));
      expect(shared.iterations).toBe(alone.iterations);
    }
    const afterThree = calls;
    calls = 0;
    fitMinimax(counted, { intervals: [[-8, 8]], degree: 73, samples });
    expect(samples.size).toBeGreaterThan(0);
    // the grid of degree 73 was sampled already: only the exchange's own evaluations remain
    expect(calls).toBeLessThan(afterThree / 3);
  });

  it('decides against a target: a levelled error above it (a lower bound) stops at once, a fit meeting it once its gap is small', () => {
    const ulu = parseActivation('ulu:a1=0.5,a2=2');
    const f = (x: number) => ulu.f(x);
    const E = fitMinimax(f, { intervals: [[-8, 8]], degree: 121 }).levelledError;
    const start = fitMinimax(f, { intervals: [[-8, 8]], degree: 119 }).reference.map((e) => e.x);
    const out = fitMinimax(f, { intervals: [[-8, 8]], degree: 121, decideAgainst: 0.98 * E, initialReference: start });
    expect(out.stopReason).toBe('decided');
    expect(out.lowerBound).toBeGreaterThan(0.98 * E);
    expect(out.lowerBound).toBeLessThanOrEqual(E * (1 + 1e-9));
    const meets = fitMinimax(f, { intervals: [[-8, 8]], degree: 121, decideAgainst: 1.2 * E });
    expect(meets.stopReason).toBe('decided');
    expect(meets.maxWeightedError).toBeLessThanOrEqual(1.2 * E);
    const close = fitMinimax(f, { intervals: [[-8, 8]], degree: 121, decideAgainst: 1.2 * E, decideGap: 1e-3 });
    expect(close.iterations).toBeGreaterThan(meets.iterations);
    expect((close.maxWeightedError - close.levelledError) / close.maxWeightedError).toBeLessThanOrEqual(1e-3);
    // a target exactly on the minimax error (ReLU, degree 2: 1/16) is not ruled out by the levelled error's rounding
    const relu = parseActivation('relu');
    const edge = fitMinimax((x) => relu.f(x), { intervals: [[-1, 1]], degree: 2, parity: relu.parity, decideAgainst: 1 / 16 });
    expect(edge.lowerBound).toBeCloseTo(1 / 16, 15);
    expect(edge.maxWeightedError).toBeCloseTo(1 / 16, 15);
  });

  it('converges where the error nearly alternates at one point too many (ULU a1 > a2 on [-16, 16], degree 665)', () => {
    // f − x/2 is close to even here: the two ends are within 1e-9 of each other and dropping the wrong one
    // overshoots by 1%; choosing it by magnitude cycled until 'stalled'
    const ulu = parseActivation('ulu:a1=2,a2=0.5');
    const f = (x: number) => ulu.f(x);
    const r = fitMinimax(f, { intervals: [[-16, 16]], degree: 665 });
    expect(r.stopReason).toBe('tolerance');
    expect(r.iterations).toBeLessThanOrEqual(8);
    expectEquioscillation(r, f, 667, 'ULU degree 665');
  });

  it('at the rounding level keeps the interpolant instead of chasing noise (GELU on [-4, 4], degrees 44 and 56)', () => {
    const gelu = parseActivation('gelu');
    const f = (x: number) => gelu.f(x);
    for (const degree of [44, 56]) {
      const r = fitMinimax(f, { intervals: [[-4, 4]], degree, parity: gelu.parity });
      expect(r.stopReason, `degree ${degree}`).toBe('rounding-limit');
      expect(measureMaxError(f, single(r.polynomial)).maxError, `degree ${degree}`).toBeLessThan(1e-13);
    }
  });

  it('rejects bad input with messages naming the value', () => {
    const f = (x: number) => x;
    expect(() => fitMinimax(f, { intervals: [[-1, 1]], degree: 0 })).toThrow(/degree must be an integer in 1..1024, got 0/);
    expect(() => fitMinimax(f, { intervals: [[-1, 1]], degree: 1025 })).toThrow(/got 1025/);
    expect(() => fitMinimax(f, { intervals: [], degree: 3 })).toThrow(/no interval/);
    expect(() => fitMinimax(f, { intervals: [[1, -1]], degree: 3 })).toThrow(/\[1, -1\] is empty or inverted/);
    expect(() =>
      fitMinimax(f, {
        intervals: [
          [-1, 0.5],
          [0, 1],
        ],
        degree: 3,
      }),
    ).toThrow(/overlap/);
    expect(() => fitMinimax((x) => Math.log(x), { intervals: [[-1, 1]], degree: 3 })).toThrow(/function is NaN at x=-1/);
    expect(() => fitMinimax(f, { intervals: [[-1, 1]], degree: 3, weight: () => -1 })).toThrow(/weight\(-1\) = -1/);
    expect(() => asymmetricWeight(0)).toThrow(/negative=0/);
  });
});
