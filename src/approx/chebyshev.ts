/**
 * Chebyshev interpolation: sample f at Chebyshev points of the 1st or 2nd kind on [a, b] and get the
 * coefficients of the interpolant in the Chebyshev basis (c_0 not halved, polynomial.ts convention) by a
 * discrete cosine transform.
 *
 * The DCT is the direct O(n²) sum with a precomputed cosine table (no FFT): n ≤ 1025 here, where it takes
 * ~2 ms (measured in bench/fit.ts), well below the cost of measuring the interpolant's error.
 */
import { FitError } from '../errors.js';
import type { ParityHint } from './activations.js';
import { powerToChebyshev, type ChebyshevPolynomial } from './polynomial.js';

/** 1st kind: the n roots of T_n (no endpoints). 2nd kind: the n extrema of T_{n−1}, endpoints included. */
export type ChebyshevKind = 1 | 2;

/** Chebyshev points on [−1, 1] in the DCT's order (descending: x_k = cos(θ_k)). */
export function chebyshevPoints(n: number, kind: ChebyshevKind = 2): Float64Array {
  const x = new Float64Array(n);
  if (n === 1) return x; // the single point 0 for either kind
  for (let k = 0; k < n; k++) {
    x[k] = kind === 1 ? Math.cos((Math.PI * (k + 0.5)) / n) : Math.cos((Math.PI * k) / (n - 1));
  }
  // exact symmetry (cos(π/2) is 6e-17, not 0)
  for (let k = 0; k < n >> 1; k++) {
    const s = 0.5 * (x[k]! - x[n - 1 - k]!);
    x[k] = s;
    x[n - 1 - k] = -s;
  }
  if (n % 2 === 1) x[n >> 1] = 0;
  return x;
}

/**
 * Coefficients c_0..c_{n−1} of the interpolant through values f(x_k) at {@link chebyshevPoints}(n, kind):
 * 1st kind by a DCT-II, c_j = (2/n)·Σ_k f_k·cos(πj(k+½)/n); 2nd kind by a DCT-I,
 * c_j = (2/(n−1))·Σ''_k f_k·cos(πjk/(n−1)) (ends of the sum halved); then c_0 (and c_{n−1} for the 2nd kind)
 * halved so that p = Σ c_j T_j with c_0 not halved. O(n²).
 */
export function chebyshevCoefficients(values: ArrayLike<number>, kind: ChebyshevKind = 2): Float64Array {
  const n = values.length;
  const c = new Float64Array(n);
  if (n === 0) return c;
  if (n === 1) {
    c[0] = values[0]!;
    return c;
  }
  if (kind === 1) {
    // cos(π·m/(2n)) for m = j(2k+1) mod 4n
    const period = 4 * n;
    const table = new Float64Array(period);
    for (let m = 0; m < period; m++) table[m] = Math.cos((Math.PI * m) / (2 * n));
    for (let j = 0; j < n; j++) {
      let s = 0;
      let idx = j % period;
      const step = (2 * j) % period;
      for (let k = 0; k < n; k++) {
        s += values[k]! * table[idx]!;
        idx += step;
        if (idx >= period) idx -= period;
      }
      c[j] = (2 / n) * s;
    }
    c[0] = c[0]! / 2;
  } else {
    const d = n - 1;
    const period = 2 * d;
    const table = new Float64Array(period);
    for (let m = 0; m < period; m++) table[m] = Math.cos((Math.PI * m) / d);
    for (let j = 0; j < n; j++) {
      let s = 0.5 * (values[0]! + (j % 2 === 0 ? values[d]! : -values[d]!));
      let idx = 0;
      for (let k = 1; k < d; k++) {
        idx += j;
        while (idx >= period) idx -= period;
        s += values[k]! * table[idx]!;
      }
      c[j] = (2 / d) * s;
    }
    c[0] = c[0]! / 2;
    c[d] = c[d]! / 2;
  }
  return c;
}

export interface InterpolantOptions {
  /** Chebyshev points of the 1st kind (roots) or 2nd kind (extrema, endpoints included). @default 2 */
  kind?: ChebyshevKind;
  /**
   * Parity of f − poly (from the activation catalog). On an interval symmetric about 0 the interpolant of the
   * even/odd part is computed and its other-parity coefficients (rounding noise) are set to exactly 0, then the
   * exact polynomial part is added back. Ignored on asymmetric intervals or when deg poly > degree.
   * @default null
   */
  parity?: ParityHint | null;
}

/** Whether a parity hint can be used for a fit of this degree on this interval. */
export function parityApplies(parity: ParityHint | null | undefined, interval: readonly [number, number], degree: number): boolean {
  if (!parity) return false;
  const [a, b] = interval;
  if (Math.abs(a + b) > 1e-14 * Math.max(Math.abs(a), Math.abs(b))) return false;
  let polyDegree = parity.poly.length - 1;
  while (polyDegree >= 0 && parity.poly[polyDegree] === 0) polyDegree--;
  if (polyDegree > degree) return false;
  return parity.symmetry === 'even' || degree >= 1;
}

/** Reject a degree or interval no fit can use, with a message naming the value. */
export function checkFitArguments(where: string, interval: readonly [number, number], degree: number): void {
  if (!Number.isInteger(degree) || degree < 1 || degree > 1024) {
    throw new FitError(`${where}: degree must be an integer in 1..1024, got ${degree}`);
  }
  const [a, b] = interval;
  if (!Number.isFinite(a) || !Number.isFinite(b)) throw new FitError(`${where}: interval [${a}, ${b}] is not finite`);
  if (!(a < b)) throw new FitError(`${where}: interval [${a}, ${b}] is empty or inverted (need a < b)`);
}

/**
 * The degree-`degree` Chebyshev interpolant of f on `interval` (degree+1 points), as a polynomial in the
 * Chebyshev basis of that interval. Throws FitError if f is NaN/±Inf at a sample point.
 */
export function chebyshevInterpolant(
  f: (x: number) => number,
  interval: readonly [number, number],
  degree: number,
  options: InterpolantOptions = {},
): ChebyshevPolynomial {
  checkFitArguments('chebyshev', interval, degree);
  const { kind = 2, parity = null } = options;
  const [a, b] = interval;
  const n = degree + 1;
  const t = chebyshevPoints(n, kind);
  const useParity = parityApplies(parity, interval, degree);
  const polyPart = useParity ? powerToChebyshev(parity!.poly, interval) : [];
  const polyAt = (x: number) => (useParity ? parity!.poly.reduce((acc, ck, k) => acc + ck * x ** k, 0) : 0);
  const values = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const x = k === 0 && kind === 2 ? b : k === n - 1 && kind === 2 ? a : 0.5 * (a + b) + 0.5 * (b - a) * t[k]!;
    const fx = f(x);
    if (!Number.isFinite(fx)) throw new FitError(`chebyshev: the function is ${fx} at x=${x} (must be finite on [${a}, ${b}])`);
    values[k] = fx - polyAt(x);
  }
  const c = chebyshevCoefficients(values, kind);
  if (useParity) {
    const zero = parity!.symmetry === 'even' ? 1 : 0;
    for (let j = zero; j < n; j += 2) c[j] = 0;
    for (let j = 0; j < polyPart.length && j < n; j++) c[j] = c[j]! + polyPart[j]!;
  }
  return { interval: [a, b], coefficients: c };
}
