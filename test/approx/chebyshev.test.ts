import { describe, expect, it } from 'vitest';
import { parseActivation } from '../../src/approx/activations.js';
import {
  chebyshevCoefficients,
  chebyshevInterpolant,
  chebyshevLobattoValues,
  chebyshevPoints,
  lobattoPoints,
} from '../../src/approx/chebyshev.js';
import { clenshaw, evalChebyshev, powerToChebyshev } from '../../src/approx/polynomial.js';

/** Modified Bessel I_j(x) and Bessel J_j(x) by their power series (closed forms for the tests below). */
function besselSeries(j: number, x: number, sign: 1 | -1): number {
  let term = (x / 2) ** j;
  for (let k = 1; k <= j; k++) term /= k;
  let sum = term;
  for (let m = 1; m < 60; m++) {
    term *= (sign * (x / 2) ** 2) / (m * (m + j));
    sum += term;
  }
  return sum;
}
const besselI = (j: number, x: number) => besselSeries(j, x, 1);
const besselJ = (j: number, x: number) => besselSeries(j, x, -1);

describe('Chebyshev interpolation', () => {
  it('exp on [-1, 1]: c_0 = I_0(1), c_j = 2·I_j(1) (both kinds of points)', () => {
    for (const kind of [1, 2] as const) {
      const p = chebyshevInterpolant(Math.exp, [-1, 1], 20, { kind });
      expect(p.coefficients[0]).toBeCloseTo(besselI(0, 1), 15);
      for (let j = 1; j <= 16; j++) expect(Math.abs(p.coefficients[j]! - 2 * besselI(j, 1))).toBeLessThan(1e-15);
    }
  });

  it('cos on [-1, 1]: c_0 = J_0(1), c_2k = 2·(−1)^k·J_2k(1), odd coefficients 0', () => {
    const p = chebyshevInterpolant(Math.cos, [-1, 1], 18);
    expect(p.coefficients[0]).toBeCloseTo(besselJ(0, 1), 15);
    for (let k = 1; k <= 8; k++) {
      expect(Math.abs(p.coefficients[2 * k]! - 2 * (-1) ** k * besselJ(2 * k, 1))).toBeLessThan(1e-15);
      expect(Math.abs(p.coefficients[2 * k - 1]!)).toBeLessThan(1e-15);
    }
  });

  it('maps [a, b] onto [-1, 1]: exp on [0, 2] has coefficients e·2·I_j(1)', () => {
    const p = chebyshevInterpolant(Math.exp, [0, 2], 20);
    for (let j = 1; j <= 16; j++) expect(Math.abs(p.coefficients[j]! - 2 * Math.E * besselI(j, 1))).toBeLessThan(4e-15);
    for (const x of [0, 0.3, 1.7, 2]) expect(evalChebyshev(p, x)).toBeCloseTo(Math.exp(x), 14);
  });

  it('the DCT inverts sampling of a known Chebyshev series, at small and large n', () => {
    for (const n of [2, 3, 8, 1025]) {
      for (const kind of [1, 2] as const) {
        const c = Array.from({ length: n }, (_, j) => Math.cos(3 * j + 1) / (1 + j));
        const t = chebyshevPoints(n, kind);
        const values = Array.from(t, (x) => c.reduce((s, cj, j) => s + cj * Math.cos(j * Math.acos(x)), 0));
        const back = chebyshevCoefficients(values, kind);
        for (let j = 0; j < n; j++) expect(Math.abs(back[j]! - c[j]!), `n=${n} kind=${kind} j=${j}`).toBeLessThan(1e-12);
      }
    }
  });

  it('uses the parity hint: ReLU keeps c_1 = 1/2 and exactly zero other odd coefficients', () => {
    const relu = parseActivation('relu');
    const p = chebyshevInterpolant((x) => relu.f(x), [-2, 2], 12, { parity: relu.parity });
    expect(p.coefficients[1]).toBeCloseTo(1, 14); // x/2 on [-2, 2] is T_1(t)
    for (let j = 3; j <= 12; j += 2) expect(p.coefficients[j]).toBe(0);
    expect(powerToChebyshev([0, 0.5], [-2, 2])).toEqual([0, 1]);
    expect(powerToChebyshev([1, 0, 1], [-1, 1])).toEqual([1.5, 0, 0.5]);
  });

  it('rejects bad degrees, ranges and non-finite functions, naming the value', () => {
    expect(() => chebyshevInterpolant(Math.exp, [-1, 1], 0)).toThrow(/degree must be an integer in 1..1024, got 0/);
    expect(() => chebyshevInterpolant(Math.exp, [-1, 1], 1025)).toThrow(/got 1025/);
    expect(() => chebyshevInterpolant(Math.exp, [1, -1], 5)).toThrow(/\[1, -1\] is empty or inverted/);
    expect(() => chebyshevInterpolant(Math.exp, [-1, Infinity], 5)).toThrow(/not finite/);
    expect(() => chebyshevInterpolant((x) => 1 / x, [-1, 1], 4)).toThrow(/function is (-)?Infinity at x=0/);
  });
});

describe('Chebyshev series on a Lobatto grid by FFT', () => {
  it('equals Clenshaw at every point cos(πk/M), for degrees below, at and above M (folded)', () => {
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
    for (const [n, M] of [
      [1, 1],
      [3, 1],
      [2, 2],
      [5, 4],
      [9, 8],
      [40, 16],
      [700, 1024],
      [1025, 1024],
    ] as const) {
      const c = Array.from({ length: n }, (_, j) => rand() / (1 + j));
      const values = chebyshevLobattoValues(c, M);
      const u = lobattoPoints(M);
      expect(values.length).toBe(M + 1);
      let scale = 0;
      for (const v of c) scale += Math.abs(v);
      for (let k = 0; k <= M; k++) {
        // the exact point is cos(πk/M); lobattoPoints is it up to rounding (exactly symmetric, 0 in the middle)
        expect(Math.abs(values[k]! - clenshaw(c, Math.cos((Math.PI * k) / M))), `n=${n} M=${M} k=${k}`).toBeLessThan(
          1e-14 * (1 + scale) * Math.log2(2 * M),
        );
        expect(u[k]).toBeCloseTo(Math.cos((Math.PI * k) / M), 15);
      }
    }
    expect(lobattoPoints(8)).toBe(lobattoPoints(8)); // computed once per size
    expect(lobattoPoints(8)[4]).toBe(0);
  });

  it('writes into a given array of the right length, and rejects a grid size that is not a power of two', () => {
    const into = new Float64Array(17);
    expect(chebyshevLobattoValues([1, 2, 3], 16, into)).toBe(into);
    expect(into[0]).toBeCloseTo(6, 14);
    expect(chebyshevLobattoValues([1, 2, 3], 16, new Float64Array(3)).length).toBe(17);
    expect(() => chebyshevLobattoValues([1], 12)).toThrow(/grid size M must be a power of two, got 12/);
    expect(() => chebyshevLobattoValues([1], 0)).toThrow(/power of two, got 0/);
  });
});
