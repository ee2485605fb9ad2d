/**
 * Remez minimax: the best uniform (optionally weighted) polynomial approximation of f on a union of intervals.
 *
 * Second Remez algorithm with multi-point exchange (Remez 1934; the robust form of Pachón & Trefethen,
 * "Barycentric-Remez algorithms for best polynomial approximation in the chebfun system", BIT 2009, with
 * their barycentric formula for the levelled solution, §3): solve for the polynomial that levels the error on a
 * reference of n+1 points, find every local extremum of the error (dense sampling on one Chebyshev–Lobatto grid
 * of the natural variable, the polynomial there by one FFT; safeguarded parabolic steps to refine; interval ends
 * and kinks included), keep one extremum per run of equal sign and n+1 alternating ones containing the global
 * maximum (with one too many, the end whose levelled solution errs least at it is dropped), repeat until the
 * levelled error equals the maximum error. If the error does not yet alternate enough, a single-point exchange
 * (de la Vallée Poussin) is made instead. The best iterate is always kept. Every levelled error is a lower bound
 * of the minimax error, so a degree search can stop a fit as soon as it is decided against a target, and start
 * it from a nearby degree's reference (warm start).
 *
 * Parity: when f − poly is even/odd (activation catalog hint) on a symmetric domain with an even weight, only
 * the even/odd Chebyshev coefficients are free; the fit runs on the positive half in the reduced basis
 * (T_{2j}(t) = T_j(2t²−1); T_{2j+1}) and the exact polynomial part is added back. The best approximation of an
 * even/odd function is even/odd, so this is the same polynomial at half the cost, computed more accurately.
 */
import { FitError } from '../errors.js';
import type { ParityHint } from './activations.js';
import { chebyshevCoefficients, chebyshevLobattoValues, chebyshevPoints, lobattoPoints, parityApplies } from './chebyshev.js';
import { lobattoGrid, nudge, pieceExtrema, type Extremum } from './extrema.js';
import { solveLinearInPlace } from './linear-solve.js';
import { clenshaw, powerToChebyshev, type ChebyshevPolynomial } from './polynomial.js';

export type Interval = readonly [number, number];

/** Progress of a Remez iteration. */
export interface MinimaxProgress {
  readonly iteration: number;
  readonly maxIterations: number;
  /** Largest |w·(f − p)| found by the extremum search this iteration. */
  readonly maxError: number;
  /** |E| of the levelled reference system. */
  readonly levelledError: number;
  /** (maxError − levelledError)/maxError. */
  readonly gap: number;
}

export interface MinimaxOptions {
  /** Disjoint intervals whose union is the domain, e.g. [[-1, -0.01], [0.01, 1]]. */
  intervals: readonly Interval[];
  /** Polynomial degree (1..1024). */
  degree: number;
  /**
   * Parity hint of the activation (f − poly even/odd). Used only when the domain is symmetric about 0, the
   * weight (if any) is even, and deg poly ≤ degree; otherwise the full basis is fitted.
   * @default null
   */
  parity?: ParityHint | null;
  /**
   * Weight w(x) > 0: minimise max |w·(f − p)|. See {@link asymmetricWeight}.
   * @default undefined (w = 1)
   */
  weight?: (x: number) => number;
  /** Points where f or the weight may have a kink or a jump; the extremum search splits there. @default [0] */
  breakpoints?: readonly number[];
  /** Iteration cap; when reached the best iterate is returned with `converged: false`. @default 60 */
  maxIterations?: number;
  /** Stop when (maxError − levelledError)/maxError ≤ tolerance. @default 1e-6 */
  tolerance?: number;
  /**
   * Stop as soon as the comparison with this error level is decided: the solver's max error is ≤ it (a
   * polynomial meeting it), or the levelled error exceeds it by more than {@link LEVELLED_MARGIN} (de la Vallée
   * Poussin: no polynomial of this degree can meet it). Used by degree searches; the result is then flagged `stopReason: 'decided'`.
   * @default undefined (iterate to the tolerance)
   */
  decideAgainst?: number;
  /**
   * With `decideAgainst`: a fit that meets it stops only once its gap (maxError − levelledError)/maxError is at
   * most this, so that its error is a usable estimate of the minimax error (a degree search interpolates it).
   * @default 1 (stop as soon as it meets it)
   */
  decideGap?: number;
  /** Samples per domain piece for bracketing, per free coefficient. @default 20 */
  samplesPerCoefficient?: number;
  /**
   * Warm start: a reference to begin from (x values, ascending), typically the `reference` of a fit of a nearby
   * degree; it is resampled to the n+1 points needed by interpolating its Chebyshev angles. Used on a single
   * interval only (ignored on unions). A near-best start saves most iterations, and its first levelled error is
   * already close to the minimax error.
   * @default undefined (Chebyshev-interpolant start)
   */
  initialReference?: readonly number[];
  /**
   * Values of f on sampling grids kept between fits of the same f with the same parity hint on the same domain
   * (a degree search fits many degrees; those sharing a grid size share the points): pass one map to all of them.
   * Unweighted fits only (ignored with a weight). The values are the same as recomputed, so results are too.
   * @default undefined (no reuse)
   */
  samples?: SampleCache;
  onProgress?: (p: MinimaxProgress) => void;
}

/** f (minus the parity hint's polynomial part) at the sample points of a sampling grid, by grid; see MinimaxOptions.samples. */
export type SampleCache = Map<string, SampledGrid>;

export type MinimaxStopReason = 'tolerance' | 'rounding-limit' | 'max-iterations' | 'stalled' | 'decided';

export interface MinimaxResult {
  /** p on the hull [min a, max b] of the intervals, Chebyshev basis, c_0 not halved, trailing zeros trimmed. */
  readonly polynomial: ChebyshevPolynomial;
  readonly degree: number;
  /** Parity of the stored coefficients. */
  readonly parity: 'even' | 'odd' | 'none';
  /** Whether the reduced (parity) basis was used. */
  readonly reducedBasis: boolean;
  /** |E| of the last levelled system solved for the returned iterate. */
  readonly levelledError: number;
  /**
   * The largest |E| of any levelled system solved: a lower bound of the minimax error of this degree (de la
   * Vallée Poussin), at least `levelledError`.
   */
  readonly lowerBound: number;
  /** max |w·(f − p)| found by the solver's own extremum search (not the independent measurement). */
  readonly maxWeightedError: number;
  /** The alternating extremal set of the returned polynomial (x ≥ 0 when the reduced basis was used). */
  readonly reference: readonly Extremum[];
  readonly iterations: number;
  readonly converged: boolean;
  readonly stopReason: MinimaxStopReason;
}

/** Weight that charges negative inputs `negative` times more than non-negative ones (asymmetric fit). */
export function asymmetricWeight(negative: number, positive = 1): (x: number) => number {
  if (!(negative > 0) || !Number.isFinite(negative) || !(positive > 0) || !Number.isFinite(positive)) {
    throw new FitError(`weight: negative=${negative} and positive=${positive} must be finite and > 0`);
  }
  return (x: number) => (x < 0 ? negative : positive);
}

/** A basis of the free coefficients: full T_j(t), or the even/odd half in the reduced variable s = 2t² − 1. */
interface Basis {
  readonly n: number;
  /** Basis values at x written to out[offset..offset+n). */
  row(x: number, out: Float64Array, offset: number): void;
  evaluate(c: Float64Array, x: number): number;
  /** The natural variable u (t on the hull, or s = 2t² − 1 for the reduced bases) and its inverse. */
  toV: (x: number) => number;
  toX: (v: number) => number;
  /** p(x) = factor(x)·q(u(x)) with q a polynomial of degree n−1 in u (odd basis: factor t, else 1). */
  factor(x: number): number;
  /** Basis coefficients of factor·q, from q sampled at Chebyshev points (q: a function of u). */
  coefficients(q: (u: number) => number): Float64Array;
  /** Chebyshev coefficients in u of q = p/factor for basis coefficients c (to sample p on a grid in u). */
  seriesInV(c: Float64Array): ArrayLike<number>;
}

function fullBasis(n: number, lo: number, hi: number): Basis {
  const mid = 0.5 * (lo + hi);
  const inv = 2 / (hi - lo);
  const t = (x: number) => (x - mid) * inv;
  return {
    n,
    row(x, out, o) {
      const tt = t(x);
      out[o] = 1;
      if (n > 1) out[o + 1] = tt;
      for (let j = 2; j < n; j++) out[o + j] = 2 * tt * out[o + j - 1]! - out[o + j - 2]!;
    },
    evaluate: (c, x) => clenshaw(c, t(x)),
    toV: t,
    toX: (v) => mid + v / inv,
    factor: () => 1,
    coefficients(q) {
      return chebyshevCoefficients(Float64Array.from(chebyshevPoints(n), q));
    },
    seriesInV: (c) => c,
  };
}

function reducedBasis(n: number, half: number, symmetry: 'even' | 'odd'): Basis {
  const s = (x: number) => {
    const t = x / half;
    return 2 * t * t - 1;
  };
  const toX = (v: number) => half * Math.sqrt(Math.max(0, 0.5 * (1 + v)));
  if (symmetry === 'even') {
    // T_{2j}(t) = T_j(s)
    return {
      n,
      row(x, out, o) {
        const ss = s(x);
        out[o] = 1;
        if (n > 1) out[o + 1] = ss;
        for (let j = 2; j < n; j++) out[o + j] = 2 * ss * out[o + j - 1]! - out[o + j - 2]!;
      },
      evaluate: (c, x) => clenshaw(c, s(x)),
      toV: s,
      toX,
      factor: () => 1,
      coefficients(q) {
        return chebyshevCoefficients(Float64Array.from(chebyshevPoints(n), q));
      },
      seriesInV: (c) => c,
    };
  }
  // y_j = T_{2j+1}(t): y_0 = t, y_{j+1} = 2s·y_j − y_{j−1} with y_{−1} = T_{−1} = t
  return {
    n,
    row(x, out, o) {
      const t = x / half;
      const ss = 2 * t * t - 1;
      out[o] = t;
      if (n > 1) out[o + 1] = 2 * ss * t - t;
      for (let j = 2; j < n; j++) out[o + j] = 2 * ss * out[o + j - 1]! - out[o + j - 2]!;
    },
    evaluate(c, x) {
      // Clenshaw for the recurrence above: Σ c_j y_j = t·(b_0 − b_1)
      const t = x / half;
      const a2 = 2 * (2 * t * t - 1);
      let b1 = 0;
      let b2 = 0;
      for (let j = c.length - 1; j >= 0; j--) {
        const b0 = c[j]! + a2 * b1 - b2;
        b2 = b1;
        b1 = b0;
      }
      // here b1 = b_0 and b2 = b_1
      return t * (b1 - b2);
    },
    toV: s,
    toX,
    factor: (x) => x / half,
    coefficients(q) {
      // sample t·q(2t² − 1) at 2n points (degree 2n − 1) and keep the odd coefficients
      const ts = chebyshevPoints(2 * n);
      const all = chebyshevCoefficients(ts.map((t) => t * q(2 * t * t - 1)));
      const c = new Float64Array(n);
      for (let j = 0; j < n; j++) c[j] = all[2 * j + 1]!;
      return c;
    },
    seriesInV(c) {
      // y_j/t = V_j(s) = U_j − U_{j−1} = Σ_{i≤j} (−1)^{j−i}(2 − δ_i0)·T_i(s) (3rd-kind Chebyshev polynomials)
      const b = new Float64Array(n);
      let suffix = 0;
      for (let i = n - 1; i >= 0; i--) {
        suffix = c[i]! - suffix;
        b[i] = i === 0 ? suffix : 2 * suffix;
      }
      return b;
    },
  };
}

/** Sort, validate and check disjointness of the intervals. */
export function normaliseIntervals(where: string, intervals: readonly Interval[]): Interval[] {
  const given: unknown = intervals;
  if (!Array.isArray(given) || intervals.length === 0) throw new FitError(`${where}: no interval given`);
  for (const iv of intervals) {
    const [a, b] = iv;
    if (typeof a !== 'number' || typeof b !== 'number' || !Number.isFinite(a) || !Number.isFinite(b)) {
      throw new FitError(`${where}: interval [${a}, ${b}] is not finite`);
    }
    if (!(a < b)) throw new FitError(`${where}: interval [${a}, ${b}] is empty or inverted (need a < b)`);
  }
  const sorted = [...intervals].map((iv) => [iv[0], iv[1]] as const).sort((p, q) => p[0] - q[0]);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]![0] <= sorted[i - 1]![1]) {
      throw new FitError(
        `${where}: intervals [${sorted[i - 1]![0]}, ${sorted[i - 1]![1]}] and [${sorted[i]![0]}, ${sorted[i]![1]}] overlap or touch`,
      );
    }
  }
  return sorted;
}

function symmetricDomain(iv: readonly Interval[]): boolean {
  const scale = Math.max(Math.abs(iv[0]![0]), Math.abs(iv[iv.length - 1]![1]));
  const tol = 1e-14 * scale;
  for (let i = 0; i < iv.length; i++) {
    const m = iv[iv.length - 1 - i]!;
    if (Math.abs(iv[i]![0] + m[1]) > tol || Math.abs(iv[i]![1] + m[0]) > tol) return false;
  }
  return true;
}

function evenWeight(w: (x: number) => number, hi: number): boolean {
  for (let k = 0; k <= 32; k++) {
    const x = (hi * (k + 0.37)) / 33;
    const a = w(x);
    const b = w(-x);
    if (Math.abs(a - b) > 1e-14 * Math.abs(a)) return false;
  }
  return true;
}

/** Sample points of one domain piece with f (minus the parity hint's polynomial part), the weight and p's factor there. */
export interface SampledGrid {
  readonly xs: Float64Array;
  readonly gs: Float64Array;
  readonly ws: Float64Array;
  /** p = factor·q: the factor at xs. */
  readonly fac: Float64Array;
  /** Index in the shared Lobatto grid of xs[1] (xs[1 + j] ↔ grid index gridStart − j), or −1: own grid. */
  readonly gridStart: number;
}

interface Piece extends SampledGrid {
  readonly es: Float64Array;
}

/**
 * Relative margin for a levelled error to count as above a target: |E| carries rounding, and a target can sit
 * exactly on a minimax error (ReLU at degree 2: 1/16 = 2^-4), where a computed |E| one ulp over would wrongly
 * rule the degree out.
 */
export const LEVELLED_MARGIN = 1e-9;

/** Largest shared sampling grid (points − 1); a piece needing more gets its own grid, evaluated by Clenshaw. */
const MAX_GRID = 2 ** 20;

/** Keep one extremum per run of equal sign, then drop the least important until `count` alternating remain. */
export function selectAlternating(extrema: readonly Extremum[], count: number): Extremum[] | null {
  const merged: Extremum[] = [];
  for (const e of extrema) {
    if (e.value === 0 || !Number.isFinite(e.value)) continue;
    const last = merged[merged.length - 1];
    if (last && last.value > 0 === e.value > 0) {
      if (Math.abs(e.value) > Math.abs(last.value)) merged[merged.length - 1] = e;
    } else merged.push(e);
  }
  if (merged.length < count) return null;
  while (merged.length > count) {
    const last = merged.length - 1;
    const endIdx = Math.abs(merged[0]!.value) <= Math.abs(merged[last]!.value) ? 0 : last;
    const endCost = Math.abs(merged[endIdx]!.value);
    let pairIdx = -1;
    let pairCost = Infinity;
    if (merged.length - count >= 2) {
      for (let i = 0; i < last; i++) {
        const c = Math.max(Math.abs(merged[i]!.value), Math.abs(merged[i + 1]!.value));
        if (c < pairCost) {
          pairCost = c;
          pairIdx = i;
        }
      }
    }
    if (pairCost < endCost) merged.splice(pairIdx, 2);
    else merged.splice(endIdx, 1);
  }
  return merged;
}

/** Single-point exchange: put the global maximum into the reference, keeping the error signs alternating. */
function singleExchange(ref: Float64Array, levelled: number, star: Extremum): Float64Array | null {
  const N = ref.length;
  const sgn = (i: number) => ((i % 2 === 0) === levelled >= 0 ? 1 : -1);
  const s = star.value > 0 ? 1 : -1;
  let j = 0;
  while (j < N && ref[j]! < star.x) j++;
  if (j < N && ref[j] === star.x) return null;
  const out = Float64Array.from(ref);
  if (j === 0) {
    if (s === sgn(0)) out[0] = star.x;
    else {
      out.copyWithin(1, 0, N - 1);
      out[0] = star.x;
    }
  } else if (j === N) {
    if (s === sgn(N - 1)) out[N - 1] = star.x;
    else {
      out.copyWithin(0, 1, N);
      out[N - 1] = star.x;
    }
  } else if (s === sgn(j - 1)) out[j - 1] = star.x;
  else out[j] = star.x;
  return out;
}

/** n+1 starting points: Chebyshev–Lobatto points of the natural variable, spread over the intervals by length. */
function initialReference(domain: readonly Interval[], count: number, basis: Basis, oddAtZero: boolean): Float64Array {
  const vs = domain.map(([a, b]) => [basis.toV(a), basis.toV(b)] as const);
  if (oddAtZero && domain.length === 1 && domain[0]![0] === 0) {
    // extrema of T_{2n+1} on (0, B]: the error of an odd fit vanishes at 0
    const B = domain[0]![1];
    const n = count - 1;
    const out = new Float64Array(count);
    for (let k = 0; k < count; k++) out[k] = B * Math.cos(((n - k) * Math.PI) / (2 * n + 1));
    return out;
  }
  const lengths = vs.map(([a, b]) => b - a);
  const total = lengths.reduce((s, l) => s + l, 0);
  const counts: number[] = lengths.map(() => (count >= vs.length ? 1 : 0));
  let left = count - counts.reduce((s, c) => s + c, 0);
  const raw = lengths.map((l) => (l / total) * left);
  for (let i = 0; i < counts.length; i++) counts[i] = counts[i]! + Math.floor(raw[i]!);
  left = count - counts.reduce((s, c) => s + c, 0);
  const order = raw.map((r, i) => [r - Math.floor(r), i] as const).sort((p, q) => q[0] - p[0]);
  for (let k = 0; k < left; k++) {
    const i = order[k % order.length]![1];
    counts[i] = counts[i]! + 1;
  }
  const out: number[] = [];
  vs.forEach(([a, b], i) => {
    const c = counts[i]!;
    if (c === 1) out.push(basis.toX(0.5 * (a + b)));
    else if (c > 1) for (const x of lobattoGrid(a, b, c, basis.toX)) out.push(x);
  });
  if (oddAtZero && out[0] === 0) out[0] = 0.5 * out[1]!;
  return Float64Array.from(out).sort();
}

/**
 * A warm-start reference resampled to `count` points. In the Chebyshev angle θ = acos(u) ∈ [0, π] a reference of
 * m points sits near the uniform Lobatto angles π·(1 − i/(m−1)); its offsets from them, in units of that spacing,
 * are interpolated linearly in the relative index and laid on the new spacing. So the structure carries over at
 * the new resolution: an interval end in the reference stays an end, an end left out stays half a spacing away
 * (a larger gap would leave the higher-degree polynomial unconstrained there), clusters near a kink shrink with
 * the spacing. Null if the result is not strictly increasing (the default start is used then).
 */
function resampleReference(ref: readonly number[], count: number, basis: Basis, [a, b]: Interval): Float64Array | null {
  const xs = ref.filter((x) => Number.isFinite(x) && x >= a && x <= b).sort((p, q) => p - q);
  const m = xs.length;
  if (m < 2 || count < 2) return null;
  const h0 = Math.PI / (m - 1);
  const offset = xs.map((x, i) => (Math.acos(Math.max(-1, Math.min(1, basis.toV(x)))) - Math.PI * (1 - i / (m - 1))) / h0);
  const h = Math.PI / (count - 1);
  const out = new Float64Array(count);
  for (let j = 0; j < count; j++) {
    const s = (j * (m - 1)) / (count - 1);
    const i = Math.min(m - 2, Math.floor(s));
    const frac = s - i;
    const theta = Math.PI * (1 - j / (count - 1)) + h * (offset[i]! * (1 - frac) + offset[i + 1]! * frac);
    out[j] = Math.min(b, Math.max(a, basis.toX(Math.cos(Math.min(Math.PI, Math.max(0, theta))))));
  }
  // ends of the reference that are ends of the interval stay exactly there
  if (xs[0] === a) out[0] = a;
  if (xs[m - 1] === b) out[count - 1] = b;
  if (count === m) out.set(xs);
  for (let j = 1; j < count; j++) if (!(out[j]! > out[j - 1]!)) return null;
  return out;
}

/**
 * The levelled solution on a reference of n+1 points without a linear solve (Pachón & Trefethen 2009, §3):
 * with barycentric weights λ_i of all n+1 points in the natural variable u, a polynomial q of degree n−1 has
 * Σ λ_i q(u_i) = 0, so p(x_i) + (−1)^i E/w_i = g(x_i) gives E = Σ λ_i y_i / Σ λ_i (−1)^i/ω_i; q is then the
 * barycentric interpolant of y_i − (−1)^i E/ω_i, converted to basis coefficients by a DCT. Weights are formed in
 * log space (no overflow at degree 1024). Returns null if anything is not finite (the caller falls back to LU).
 */
function levelledBarycentric(
  ref: Float64Array,
  basis: Basis,
  g: (x: number) => number,
  w: (x: number) => number,
): { c: Float64Array; E: number } | null {
  const sys = referenceSystem(ref, basis, g, w);
  const solved = solveLevelled(sys, sys.sign, sys.logLam, -1);
  if (solved === null) return null;
  const c = basis.coefficients(solved.q);
  for (const v of c) if (!Number.isFinite(v)) return null;
  return { c, E: solved.E };
}

/** E of the levelled system on a reference (no coefficients), or null if not finite. */
function levelledError(ref: Float64Array, basis: Basis, g: (x: number) => number, w: (x: number) => number): number | null {
  const sys = referenceSystem(ref, basis, g, w);
  return solveLevelled(sys, sys.sign, sys.logLam, -1)?.E ?? null;
}

/** A reference in the natural variable: u ascending, y = g/factor, ω = w·factor, barycentric weights (sign, log). */
interface ReferenceSystem {
  readonly x: Float64Array;
  readonly u: Float64Array;
  readonly y: Float64Array;
  readonly om: Float64Array;
  /** λ_i = sign_i·exp(logLam_i) up to a common factor: 1/Π_{j≠i}(u_i − u_j). */
  readonly sign: Float64Array;
  readonly logLam: Float64Array;
}

function referenceSystem(ref: ArrayLike<number>, basis: Basis, g: (x: number) => number, w: (x: number) => number): ReferenceSystem {
  const N = ref.length;
  const x = Float64Array.from(ref);
  const u = new Float64Array(N);
  const y = new Float64Array(N);
  const om = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    const fac = basis.factor(x[i]!);
    u[i] = basis.toV(x[i]!);
    y[i] = g(x[i]!) / fac;
    om[i] = w(x[i]!) * fac;
  }
  // log|Π_{j≠i}(u_i − u_j)|⁻¹: products of 2|u_i − u_j| (for points spread like Chebyshev points on [−1, 1] they
  // stay near N, no overflow), each pair once; in log space if a product leaves the normal range
  const logLam = new Float64Array(N);
  const prod = new Float64Array(N).fill(1);
  for (let i = 0; i < N; i++) {
    const ui = u[i]!;
    let pi = prod[i]!;
    for (let j = i + 1; j < N; j++) {
      const d = 2 * Math.abs(ui - u[j]!);
      pi *= d;
      prod[j] = prod[j]! * d;
    }
    prod[i] = pi;
  }
  let normal = true;
  for (let i = 0; i < N; i++) if (!(prod[i]! > 1e-280 && prod[i]! < 1e280)) normal = false;
  if (normal) for (let i = 0; i < N; i++) logLam[i] = -Math.log(prod[i]!);
  else {
    for (let i = 0; i < N; i++) {
      const ui = u[i]!;
      let sum = logLam[i]!;
      for (let j = i + 1; j < N; j++) {
        const l = Math.log(Math.abs(ui - u[j]!));
        sum -= l;
        logLam[j] = logLam[j]! - l;
      }
      logLam[i] = sum;
    }
  }
  // sign of Π_{j≠i}(u_i − u_j) for ascending u: (−1)^(number of j > i)
  const sign = new Float64Array(N);
  for (let i = 0; i < N; i++) sign[i] = (N - 1 - i) % 2 === 0 ? 1 : -1;
  return { x, u, y, om, sign, logLam };
}

/**
 * The levelled solution on the reference without point `skip` (−1: all points), signs alternating over the
 * points kept: E = Σ λ_i y_i / Σ λ_i (−1)^i/ω_i, and q the barycentric interpolant of y_i − (−1)^i E/ω_i.
 */
function solveLevelled(
  sys: ReferenceSystem,
  sign: ArrayLike<number>,
  logLam: ArrayLike<number>,
  skip: number,
): { E: number; q: (v: number) => number } | null {
  const { u, y, om } = sys;
  const N = u.length;
  let maxLog = -Infinity;
  for (let i = 0; i < N; i++) if (i !== skip && logLam[i]! > maxLog) maxLog = logLam[i]!;
  const lam = new Float64Array(N);
  const alt = new Float64Array(N);
  let num = 0;
  let den = 0;
  for (let i = 0, pos = 0; i < N; i++) {
    if (i === skip) continue;
    lam[i] = sign[i]! * Math.exp(logLam[i]! - maxLog);
    alt[i] = pos++ % 2 === 0 ? 1 : -1;
    num += lam[i]! * y[i]!;
    den += (lam[i]! * alt[i]!) / om[i]!;
  }
  const E = num / den;
  if (!Number.isFinite(E)) return null;
  const d = new Float64Array(N);
  for (let i = 0; i < N; i++) d[i] = i === skip ? 0 : y[i]! - (alt[i]! * E) / om[i]!;
  const q = (v: number) => {
    let a = 0;
    let b = 0;
    for (let i = 0; i < N; i++) {
      if (i === skip) continue;
      const diff = v - u[i]!;
      if (diff === 0) return d[i]!;
      const t = lam[i]! / diff;
      a += t * d[i]!;
      b += t;
    }
    return a / b;
  };
  return { E, q };
}

/**
 * With one alternating extremum too many, which end to drop: the one whose levelled solution on the other
 * points errs least beyond |E| at the dropped point (both in O(N) from the weights of all N+1 points: dropping
 * point k multiplies λ_i by u_i − u_k). Near-degenerate alternation (f close to even + linear, e.g. ULU with
 * a1 ≠ a2 on a wide range) makes the two ends' errors equal to ~1e-9 while one choice overshoots by 1%; the
 * magnitude rule then cycles. Returns 0 (drop the first) or N (drop the last), or −1 if undecidable.
 */
function endToDrop(wide: readonly Extremum[], basis: Basis, g: (x: number) => number, w: (x: number) => number): number {
  const sys = referenceSystem(
    Float64Array.from(wide, (e) => e.x),
    basis,
    g,
    w,
  );
  const N = wide.length;
  let bestEnd = -1;
  let bestExcess = Infinity;
  for (const k of [0, N - 1]) {
    const sign = new Float64Array(N);
    const logLam = new Float64Array(N);
    for (let i = 0; i < N; i++) {
      const diff = sys.u[i]! - sys.u[k]!;
      sign[i] = sys.sign[i]! * (diff < 0 ? -1 : 1);
      logLam[i] = sys.logLam[i]! + Math.log(Math.abs(diff));
    }
    const solved = solveLevelled(sys, sign, logLam, k);
    if (solved === null) continue;
    const xk = sys.x[k]!;
    const err = w(xk) * (g(xk) - basis.factor(xk) * solved.q(sys.u[k]!));
    const excess = Math.abs(err) - Math.abs(solved.E);
    if (Number.isFinite(excess) && excess < bestExcess) {
      bestExcess = excess;
      bestEnd = k;
    }
  }
  return bestEnd;
}

/**
 * The minimax (best uniform) polynomial of degree ≤ `degree` for f on the union of `intervals`.
 * Never hangs: at most `maxIterations` iterations, each with bounded work; if the tolerance is not met the best
 * iterate is returned with `converged: false`.
 */
export function fitMinimax(f: (x: number) => number, options: MinimaxOptions): MinimaxResult {
  const settings = minimaxSettings(options);
  const problem = minimaxProblem(f, settings);
  const samples = sampleDomain(problem, settings);
  const state = initialState(problem, samples, settings);
  // Second Remez algorithm (Pachón & Trefethen 2009): solve, locate extrema, check, exchange
  while (state.stopReason === null && state.iterations < settings.maxIterations) {
    const it = ++state.iterations;
    const solved = solveLevelledSystem(problem, state.ref);
    if ('singular' in solved) {
      stall(problem, state, `the reference system is singular at iteration ${it}`, solved.singular);
      break;
    }
    const approximate = fillErrors(problem.basis, samples, solved.c);
    state.maxLevelled = Math.max(state.maxLevelled, Math.abs(solved.E));
    if (levelledAboveTarget(settings, solved.E)) {
      // no polynomial of this degree meets the target (the levelled error is a lower bound): no extremum search
      state.best ??= { ...solved, maxErr: largestSampledError(samples), selected: null };
      report(settings, it, state.best.maxErr, solved.E, 0);
      state.stopReason = 'decided';
      break;
    }
    // one parabolic step while far from convergence (extremum positions to ~1e-3 of the spacing), two near it
    const extrema = errorExtrema(problem, samples, solved.c, approximate, state.previousGap > 1e-2 ? 1 : 2);
    const star = largestExtremum(extrema, state.ref[0]!);
    const maxErr = Math.abs(star.value);
    if (!Number.isFinite(maxErr)) {
      stall(problem, state, `the error is not finite at iteration ${it}`);
      break;
    }
    const selected = alternatingSet(problem, extrema);
    const gap = keepBest(state, solved, maxErr, selected);
    report(settings, it, maxErr, solved.E, gap);
    state.stopReason = stopReasonAfter(settings, samples, state, solved, maxErr, gap);
    if (state.stopReason !== null) break;
    const next = exchange(state.ref, selected, solved.E, star);
    if (next === null) {
      state.stopReason = 'stalled';
      break;
    }
    state.ref = next;
  }
  return minimaxResult(problem, state);
}

/** {@link MinimaxOptions} checked, with their defaults. */
interface MinimaxSettings {
  /** Sorted, disjoint. */
  readonly intervals: readonly Interval[];
  readonly degree: number;
  readonly parity: ParityHint | null;
  readonly weight: ((x: number) => number) | undefined;
  readonly breakpoints: readonly number[];
  readonly maxIterations: number;
  readonly tolerance: number;
  readonly samplesPerCoefficient: number;
  readonly decideAgainst: number | undefined;
  readonly decideGap: number;
  readonly warmStart: readonly number[] | undefined;
  readonly sampleCache: SampleCache | undefined;
  readonly onProgress: ((p: MinimaxProgress) => void) | undefined;
}

function minimaxSettings(options: MinimaxOptions): MinimaxSettings {
  const {
    degree,
    parity = null,
    weight,
    breakpoints = [0],
    maxIterations = 60,
    tolerance = 1e-6,
    samplesPerCoefficient = 20,
    decideAgainst,
    decideGap = 1,
    initialReference: warmStart,
    samples: sampleCache,
    onProgress,
  } = options;
  if (!Number.isInteger(degree) || degree < 1 || degree > 1024) {
    throw new FitError(`remez: degree must be an integer in 1..1024, got ${degree}`);
  }
  if (!Number.isInteger(maxIterations) || maxIterations < 1) {
    throw new FitError(`remez: maxIterations must be a positive integer, got ${maxIterations}`);
  }
  if (!(tolerance > 0)) throw new FitError(`remez: tolerance must be > 0, got ${tolerance}`);
  const intervals = normaliseIntervals('remez', options.intervals);
  return {
    intervals,
    degree,
    parity,
    weight,
    breakpoints,
    maxIterations,
    tolerance,
    samplesPerCoefficient,
    decideAgainst,
    decideGap,
    warmStart,
    sampleCache,
    onProgress,
  };
}

/** What is fitted: g = f − (the parity hint's polynomial part) in a basis of the free coefficients, on a domain. */
interface MinimaxProblem {
  /** The degree asked for. */
  readonly degree: number;
  /** The hull [lo, hi] of the intervals: the polynomial's interval. */
  readonly lo: number;
  readonly hi: number;
  /** The parity hint when it applies (reduced basis, domain = the positive half), else null (full basis). */
  readonly reduced: ParityHint | null;
  readonly basis: Basis;
  readonly domain: readonly Interval[];
  readonly weighted: boolean;
  readonly g: (x: number) => number;
  /** The weight (1 without one). */
  readonly w: (x: number) => number;
  /** g, checked finite. */
  readonly checkedValue: (x: number) => number;
  /** w, checked finite and > 0. */
  readonly checkedWeight: (x: number) => number;
}

/** The basis and domain of the fit: the reduced (parity) basis on the positive half where the hint applies. */
function minimaxProblem(f: (x: number) => number, settings: MinimaxSettings): MinimaxProblem {
  const { intervals, degree, parity, weight } = settings;
  const lo = intervals[0]![0];
  const hi = intervals[intervals.length - 1]![1];
  const w = weight ?? (() => 1);
  const useParity =
    parity !== null &&
    parityApplies(parity, [lo, hi], degree) &&
    symmetricDomain(intervals) &&
    (weight === undefined || evenWeight(weight, hi));
  let basis: Basis;
  let domain: readonly Interval[];
  if (useParity) {
    const m = parity.symmetry === 'even' ? Math.floor(degree / 2) : Math.floor((degree - 1) / 2);
    basis = reducedBasis(m + 1, hi, parity.symmetry);
    domain = intervals.filter(([, b]) => b > 0).map(([a, b]) => [Math.max(a, 0), b] as const);
  } else {
    basis = fullBasis(degree + 1, lo, hi);
    domain = intervals;
  }
  const polyPower: readonly number[] = useParity ? parity.poly : [];
  const polyAt = (x: number) => {
    let s = 0;
    for (let k = polyPower.length - 1; k >= 0; k--) s = s * x + polyPower[k]!;
    return s;
  };
  const g = (x: number) => f(x) - polyAt(x);
  const checkedValue = (x: number): number => {
    const v = g(x);
    if (!Number.isFinite(v)) {
      throw new FitError(`remez: the function is ${f(x)} at x=${x} (must be finite on the domain)`);
    }
    return v;
  };
  const checkedWeight = (x: number): number => {
    const v = w(x);
    if (!(v > 0) || !Number.isFinite(v)) throw new FitError(`remez: weight(${x}) = ${v} (must be finite and > 0)`);
    return v;
  };
  const reduced = useParity ? parity : null;
  return { degree, lo, hi, reduced, basis, domain, weighted: weight !== undefined, g, w, checkedValue, checkedWeight };
}

/** The sampled domain: every piece's samples and the shared grid, with the scales that set the rounding level. */
interface DomainSamples {
  readonly pieces: readonly Piece[];
  /** The shared Lobatto grid has gridM + 1 points; p's values there are written to gridValues. */
  readonly gridM: number;
  readonly gridValues: Float64Array;
  /** max |w·g| over the samples. */
  readonly scale: number;
  /** max w over the samples. */
  readonly wMax: number;
}

/** One domain piece (an interval split at breakpoints) before sampling. */
interface Span {
  readonly l: number;
  readonly r: number;
  /** Whether l / r is an end of a domain interval (else a breakpoint: one-sided values are taken there). */
  readonly first: boolean;
  readonly last: boolean;
  /** Samples wanted on the piece. */
  readonly perPiece: number;
  /** The piece's share of the Chebyshev angle, over π. */
  readonly fraction: number;
}

/**
 * Pieces: domain intervals split at breakpoints, one-sided values at kinks. Samples per piece in proportion to
 * its share of the Chebyshev angle (extrema are spread evenly in angle), taken from one Lobatto grid of the
 * natural variable u_k = cos(πk/M) shared by all pieces, so that p is sampled by one FFT (chebyshev.ts).
 */
function sampleDomain(problem: MinimaxProblem, settings: MinimaxSettings): DomainSamples {
  const spans = domainSpans(problem, settings.breakpoints, settings.samplesPerCoefficient);
  // M: the power of two giving every piece at least its perPiece − 2 interior points (up to MAX_GRID)
  let gridM = 64;
  for (const sp of spans) {
    const need = sp.fraction > 0 ? (sp.perPiece + 1) / sp.fraction : Infinity;
    while (gridM < need && gridM < MAX_GRID) gridM *= 2;
  }
  const grid = lobattoPoints(gridM);
  const reuse = problem.weighted ? undefined : settings.sampleCache;
  const { reduced, lo, hi } = problem;
  const gridKey = `${reduced ? `${reduced.symmetry}:${reduced.poly.join(',')}` : 'full'}|${lo},${hi}|${gridM}`;
  const pieces = spans.map((span) => samplePiece(problem, span, grid, gridM, gridKey, reuse));
  let scale = 0;
  let wMax = 0;
  for (const p of pieces) {
    for (let i = 0; i < p.xs.length; i++) {
      scale = Math.max(scale, Math.abs(p.gs[i]! * p.ws[i]!));
      wMax = Math.max(wMax, p.ws[i]!);
    }
  }
  return { pieces, gridM, gridValues: new Float64Array(gridM + 1), scale, wMax };
}

function domainSpans(problem: MinimaxProblem, breakpoints: readonly number[], samplesPerCoefficient: number): Span[] {
  const { basis, domain } = problem;
  const angle = (x: number) => Math.acos(Math.max(-1, Math.min(1, basis.toV(x))));
  const totalAngle = domain.reduce((sum, [a, b]) => sum + Math.abs(angle(a) - angle(b)), 0);
  const spans: Span[] = [];
  for (const [a, b] of domain) {
    const cuts = [a, ...breakpoints.filter((p) => p > a && p < b).sort((p, q) => p - q), b];
    for (let i = 0; i + 1 < cuts.length; i++) {
      const l = cuts[i]!;
      const r = cuts[i + 1]!;
      const pieceAngle = Math.abs(angle(l) - angle(r));
      const share = totalAngle > 0 ? pieceAngle / totalAngle : 1;
      const perPiece = Math.max(65, Math.ceil(samplesPerCoefficient * basis.n * share) + 1);
      spans.push({ l, r, first: i === 0, last: i + 2 === cuts.length, perPiece, fraction: pieceAngle / Math.PI });
    }
  }
  return spans;
}

/** The samples of one piece: the shared grid's points in it if there are enough (else its own grid), and its ends. */
function samplePiece(
  problem: MinimaxProblem,
  { l, r, first, last, perPiece }: Span,
  grid: Float64Array,
  gridM: number,
  gridKey: string,
  reuse: SampleCache | undefined,
): Piece {
  const { basis } = problem;
  const vl = basis.toV(l);
  const vr = basis.toV(r);
  // interior grid indices: vl < u_k < vr with u_k descending in k
  let kHi = Math.max(0, Math.floor((gridM * Math.acos(Math.min(1, vr))) / Math.PI) - 1);
  while (kHi <= gridM && grid[kHi]! >= vr) kHi++;
  let kLo = Math.min(gridM, Math.ceil((gridM * Math.acos(Math.max(-1, vl))) / Math.PI) + 1);
  while (kLo >= 0 && grid[kLo]! <= vl) kLo--;
  const interior = kLo - kHi + 1;
  const shared = interior >= perPiece - 2;
  const key = `${gridKey}|${l},${r}|${first},${last}|${shared ? 'grid' : perPiece}`;
  const known = reuse?.get(key);
  if (known) return { ...known, es: new Float64Array(known.xs.length) };
  let xs: Float64Array;
  if (shared) {
    xs = new Float64Array(interior + 2);
    for (let j = 0; j < interior; j++) xs[1 + j] = basis.toX(grid[kLo - j]!);
  } else xs = lobattoGrid(vl, vr, perPiece, basis.toX);
  xs[0] = first ? l : nudge(l, 1);
  xs[xs.length - 1] = last ? r : nudge(r, -1);
  const kept: SampledGrid = {
    xs,
    gs: xs.map(problem.checkedValue),
    ws: xs.map(problem.checkedWeight),
    fac: xs.map((x) => basis.factor(x)),
    gridStart: shared ? kLo : -1,
  };
  reuse?.set(key, kept);
  return { ...kept, es: new Float64Array(xs.length) };
}

/**
 * es = w·(g − p) at every piece's samples for basis coefficients c: p on the shared grid by one FFT, whose
 * rounding is ≈ 2^-52·(8 + 2·log2 M)·Σ|b_j|·max w (an over-estimate, ~10×). Below 1e-8 of the error there
 * the samples serve as values; up to 1e-6 they only locate extrema (evaluated again); above (fits at the
 * rounding level) p is evaluated by Clenshaw at every sample. Returns whether the samples are approximate.
 */
function fillErrors(basis: Basis, samples: DomainSamples, c: Float64Array): boolean {
  const { pieces, gridM, wMax } = samples;
  let onGrid: Float64Array | null = null;
  let noise = 0;
  if (pieces.some((p) => p.gridStart >= 0)) {
    const series = basis.seriesInV(c);
    for (let j = 0; j < series.length; j++) noise += Math.abs(series[j]!);
    noise *= 2 ** -52 * (8 + 2 * Math.log2(gridM)) * wMax;
    onGrid = chebyshevLobattoValues(series, gridM, samples.gridValues);
  }
  let gridMax = 0;
  for (const p of pieces) {
    const last = p.xs.length - 1;
    for (let i = 0; i <= last; i++) {
      const pv = onGrid && p.gridStart >= 0 && i > 0 && i < last ? p.fac[i]! * onGrid[p.gridStart - i + 1]! : basis.evaluate(c, p.xs[i]!);
      p.es[i] = p.ws[i]! * (p.gs[i]! - pv);
      gridMax = Math.max(gridMax, Math.abs(p.es[i]!));
    }
  }
  if (onGrid && noise > 1e-6 * gridMax) {
    for (const p of pieces) for (let i = 0; i < p.xs.length; i++) p.es[i] = p.ws[i]! * (p.gs[i]! - basis.evaluate(c, p.xs[i]!));
    return false;
  }
  return onGrid !== null && noise > 1e-8 * gridMax;
}

/** The largest |error| at the samples (as last filled). */
function largestSampledError(samples: DomainSamples): number {
  let gridMax = 0;
  for (const p of samples.pieces) for (const v of p.es) gridMax = Math.max(gridMax, Math.abs(v));
  return gridMax;
}

/** Every local extremum of w·(g − p) for basis coefficients c, bracketed on the filled samples, parabolic refinement. */
function errorExtrema(problem: MinimaxProblem, samples: DomainSamples, c: Float64Array, approximate: boolean, steps: number): Extremum[] {
  const { basis, g, w } = problem;
  const err = (x: number) => w(x) * (g(x) - basis.evaluate(c, x));
  const extrema: Extremum[] = [];
  for (const p of samples.pieces) {
    pieceExtrema(err, p.xs, p.es, extrema, { refinement: 'parabolic', approximateSamples: approximate, parabolicSteps: steps });
  }
  return extrema;
}

/** The extremum of largest |value| (the first of equals), or `x` with value 0 if there is none. */
function largestExtremum(extrema: readonly Extremum[], x: number): Extremum {
  let star: Extremum = { x, value: 0 };
  for (const e of extrema) if (Math.abs(e.value) > Math.abs(star.value)) star = e;
  return star;
}

/** Differences below this are rounding: 16 ulps of the largest of |w·g| and the weighted coefficient sum. */
function roundingLevel(samples: DomainSamples, c: Float64Array): number {
  let cSum = 0;
  for (const v of c) cSum += Math.abs(v);
  return 16 * 2 ** -52 * (samples.scale + samples.wMax * cSum);
}

/** A Remez iterate: basis coefficients, levelled error, max error found, and its alternating extremal set. */
interface Iterate {
  readonly c: Float64Array;
  readonly E: number;
  readonly maxErr: number;
  readonly selected: Extremum[] | null;
}

/** The state of the exchange between iterations. */
interface ExchangeState {
  /** The current reference (x ascending). */
  ref: Float64Array;
  /** The iterate of smallest max error so far. */
  best: Iterate | null;
  iterations: number;
  /** Null while iterating. */
  stopReason: MinimaxStopReason | null;
  /** Iterations since the max error or the levelled error last improved. */
  sinceImprovement: number;
  /** The largest |E| of any levelled system solved (a lower bound of the minimax error). */
  maxLevelled: number;
  /** The largest |E| of the iterations with an extremum search. */
  levelledBefore: number;
  /** The last iteration's gap (maxErr − |E|)/maxErr (a warm start counts as near: 0). */
  previousGap: number;
}

/**
 * Initial reference: the warm start resampled, else Chebyshev–Lobatto points of the natural variable, on a
 * single interval covering u ∈ [−1, 1] improved by the Chebyshev interpolant's error extrema (see
 * interpolantStart); an interpolant already at the rounding level is the result (no iteration).
 */
function initialState(problem: MinimaxProblem, samples: DomainSamples, settings: MinimaxSettings): ExchangeState {
  const { basis, domain } = problem;
  const N = basis.n + 1;
  let ref = initialReference(domain, N, basis, problem.reduced?.symmetry === 'odd');
  let atRounding: Iterate | null = null;
  const warm = settings.warmStart && domain.length === 1 ? resampleReference(settings.warmStart, N, basis, domain[0]!) : null;
  if (warm) ref = warm;
  else if (!problem.weighted && domain.length === 1 && basis.toV(domain[0]![0]) <= -1 + 1e-15 && basis.n > 1) {
    ({ ref, atRounding } = interpolantStart(problem, samples, ref));
  }
  return {
    ref,
    best: atRounding,
    iterations: 0,
    stopReason: atRounding ? 'rounding-limit' : null,
    sinceImprovement: 0,
    maxLevelled: 0,
    levelledBefore: 0,
    previousGap: warm ? 0 : 1,
  };
}

/**
 * Better start on a single interval covering u ∈ [−1, 1] (unweighted): the alternating error extrema of the
 * Chebyshev interpolant (1st-kind points, so the odd basis never divides by t = 0), which is already near-best.
 * Of it and `ref`, the reference with the larger levelled error is kept: it is a lower bound of the minimax
 * error (de la Vallée Poussin), so the larger one is closer to the best reference (the interpolant's is poor for
 * |x|-like f). `atRounding`: the interpolant, if already at the rounding level (the exchange would only chase noise).
 */
function interpolantStart(
  problem: MinimaxProblem,
  samples: DomainSamples,
  ref: Float64Array,
): { ref: Float64Array; atRounding: Iterate | null } {
  const { basis, checkedValue, checkedWeight } = problem;
  const N = basis.n + 1;
  const us = chebyshevPoints(basis.n, 1);
  const ys = us.map((u) => {
    const x = basis.toX(u);
    return checkedValue(x) / basis.factor(x);
  });
  const cu = chebyshevCoefficients(ys, 1);
  const c0 = basis.coefficients((u) => clenshaw(cu, u));
  const approximate0 = fillErrors(basis, samples, c0); // unweighted here (w = 1)
  const extrema = errorExtrema(problem, samples, c0, approximate0, 1);
  let maxErr0 = 0;
  for (const e of extrema) maxErr0 = Math.max(maxErr0, Math.abs(e.value));
  const selected = selectAlternating(extrema, N);
  const atRounding = maxErr0 <= roundingLevel(samples, c0) ? { c: c0, E: 0, maxErr: maxErr0, selected } : null;
  if (selected) {
    const candidate = Float64Array.from(selected, (e) => e.x);
    const a = levelledError(ref, basis, checkedValue, checkedWeight);
    const b = levelledError(candidate, basis, checkedValue, checkedWeight);
    if (b !== null && (a === null || Math.abs(b) > Math.abs(a))) return { ref: candidate, atRounding };
  }
  return { ref, atRounding };
}

/**
 * Solve the levelled system on the reference: p(x_i) + (−1)^i E/w(x_i) = g(x_i). Barycentric formula
 * (Pachón–Trefethen 2009, §3); LU with partial pivoting if that is not finite. `singular`: the LU error.
 */
function solveLevelledSystem(problem: MinimaxProblem, ref: Float64Array): { c: Float64Array; E: number } | { singular: unknown } {
  const { basis, checkedValue, checkedWeight } = problem;
  const solved = levelledBarycentric(ref, basis, checkedValue, checkedWeight);
  if (solved !== null) return solved;
  const n = basis.n;
  const N = n + 1;
  const A = new Float64Array(N * N);
  const rhs = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    const x = ref[i]!;
    basis.row(x, A, i * N);
    A[i * N + n] = (i % 2 === 0 ? 1 : -1) / checkedWeight(x);
    rhs[i] = checkedValue(x);
  }
  try {
    solveLinearInPlace(A, rhs, N);
  } catch (err) {
    return { singular: err };
  }
  return { c: rhs.slice(0, n), E: rhs[n]! };
}

/** Stop with the best iterate so far ('stalled'), or fail if there is none yet. */
function stall(problem: MinimaxProblem, state: ExchangeState, why: string, cause?: unknown): void {
  if (state.best === null) throw new FitError(`remez: degree ${problem.degree}: ${why}`, cause === undefined ? undefined : { cause });
  state.stopReason = 'stalled';
}

/** Whether |E| proves the target out of reach: it exceeds `decideAgainst` by more than rounding (de la Vallée Poussin). */
function levelledAboveTarget(settings: MinimaxSettings, E: number): boolean {
  return settings.decideAgainst !== undefined && Math.abs(E) > settings.decideAgainst * (1 + LEVELLED_MARGIN);
}

function report(settings: MinimaxSettings, iteration: number, maxError: number, E: number, gap: number): void {
  settings.onProgress?.({ iteration, maxIterations: settings.maxIterations, maxError, levelledError: Math.abs(E), gap });
}

/**
 * The next reference's extremal set: n+1 alternating extrema containing the global maximum; with one too many
 * the end to drop is chosen by the levelled solutions, not by magnitude alone (see endToDrop). Null: the error
 * does not alternate enough (a single-point exchange is made instead).
 */
function alternatingSet(problem: MinimaxProblem, extrema: readonly Extremum[]): Extremum[] | null {
  const N = problem.basis.n + 1;
  const wide = selectAlternating(extrema, N + 1);
  if (!wide) return selectAlternating(extrema, N);
  const drop = endToDrop(wide, problem.basis, problem.checkedValue, problem.checkedWeight);
  return drop < 0 ? selectAlternating(wide, N) : drop === 0 ? wide.slice(1) : wide.slice(0, N);
}

/**
 * Keep the best iterate (smallest max error) and count iterations without progress (a smaller max error, or a
 * levelled error, a lower bound of the optimum, up by more than 1%). Returns the gap (maxErr − |E|)/maxErr.
 */
function keepBest(state: ExchangeState, { c, E }: { c: Float64Array; E: number }, maxErr: number, selected: Extremum[] | null): number {
  const levelledUp = Math.abs(E) > 1.01 * state.levelledBefore;
  state.levelledBefore = Math.max(state.levelledBefore, Math.abs(E));
  if (state.best === null || maxErr < state.best.maxErr) {
    state.best = { c, E, maxErr, selected };
    state.sinceImprovement = 0;
  } else if (levelledUp) state.sinceImprovement = 0;
  else state.sinceImprovement++;
  const gap = maxErr > 0 ? (maxErr - Math.abs(E)) / maxErr : 0;
  state.previousGap = gap;
  return gap;
}

/**
 * Check after an extremum search: converged (gap ≤ tolerance), decided against `decideAgainst`, at the rounding
 * level with the best iterate no worse, or no progress in 5 iterations; null: go on.
 */
function stopReasonAfter(
  settings: MinimaxSettings,
  samples: DomainSamples,
  state: ExchangeState,
  { c, E }: { c: Float64Array; E: number },
  maxErr: number,
  gap: number,
): MinimaxStopReason | null {
  const best = state.best!;
  const { decideAgainst } = settings;
  if (gap <= settings.tolerance) return 'tolerance';
  if (decideAgainst !== undefined && ((best.maxErr <= decideAgainst && gap <= settings.decideGap) || levelledAboveTarget(settings, E))) {
    return 'decided';
  }
  if (maxErr - Math.abs(E) <= roundingLevel(samples, c) && best.maxErr <= maxErr) return 'rounding-limit';
  if (state.sinceImprovement >= 5) return 'stalled';
  return null;
}

/**
 * Exchange: the alternating set becomes the reference (multi-point exchange), or without one the global maximum
 * is swapped in (single-point, de la Vallée Poussin). Null: the reference would not change.
 */
function exchange(ref: Float64Array, selected: readonly Extremum[] | null, E: number, star: Extremum): Float64Array | null {
  const next = selected ? Float64Array.from(selected, (e) => e.x) : singleExchange(ref, E, star);
  return next === null || next.every((x, i) => x === ref[i]) ? null : next;
}

/** The best iterate's coefficients on the hull (the parity hint's polynomial part added back), and its figures. */
function minimaxResult(problem: MinimaxProblem, state: ExchangeState): MinimaxResult {
  const { reduced, basis, lo, hi } = problem;
  const b = state.best!;
  const stopReason = state.stopReason ?? 'max-iterations';
  const full = new Array<number>(problem.degree + 1).fill(0);
  if (reduced) {
    const off = reduced.symmetry === 'even' ? 0 : 1;
    for (let j = 0; j < basis.n; j++) full[2 * j + off] = b.c[j]!;
    const pc = powerToChebyshev(reduced.poly, [lo, hi]);
    for (let j = 0; j < pc.length; j++) full[j] = full[j]! + pc[j]!;
  } else for (let j = 0; j < basis.n; j++) full[j] = b.c[j]!;
  while (full.length > 1 && full[full.length - 1] === 0) full.pop();
  return {
    polynomial: { interval: [lo, hi], coefficients: full },
    degree: full.length - 1,
    parity: coefficientParity(full),
    reducedBasis: reduced !== null,
    levelledError: Math.abs(b.E),
    lowerBound: Math.max(state.maxLevelled, Math.abs(b.E)),
    maxWeightedError: b.maxErr,
    reference: b.selected ?? [],
    iterations: state.iterations,
    converged: stopReason === 'tolerance' || stopReason === 'rounding-limit',
    stopReason,
  };
}

/** Parity of a coefficient vector from its exact zero pattern. */
export function coefficientParity(c: ArrayLike<number>): 'even' | 'odd' | 'none' {
  let odd = false;
  let even = false;
  for (let j = 0; j < c.length; j++) {
    if (c[j] === 0) continue;
    if (j % 2 === 0) even = true;
    else odd = true;
  }
  return odd && even ? 'none' : odd ? 'odd' : 'even';
}
