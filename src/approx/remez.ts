/**
 * Remez minimax: the best uniform (optionally weighted) polynomial approximation of f on a union of intervals.
 *
 * Second Remez algorithm with multi-point exchange (Remez 1934; the robust form of Pachón & Trefethen,
 * "Barycentric-Remez algorithms for best polynomial approximation in the chebfun system", BIT 2009, without
 * the barycentric part): solve for the polynomial that levels the error on a reference of n+1 points, find
 * every local extremum of the error (dense sampling to bracket, Brent to refine, interval ends and kinks
 * included), keep one extremum per run of equal sign and n+1 alternating ones containing the global maximum,
 * repeat until the levelled error equals the maximum error. If the error does not yet alternate enough, a
 * single-point exchange (de la Vallée Poussin) is made instead. The best iterate is always kept.
 *
 * Parity: when f − poly is even/odd (activation catalog hint) on a symmetric domain with an even weight, only
 * the even/odd Chebyshev coefficients are free; the fit runs on the positive half in the reduced basis
 * (T_{2j}(t) = T_j(2t²−1); T_{2j+1}) and the exact polynomial part is added back. The best approximation of an
 * even/odd function is even/odd, so this is the same polynomial at half the cost, computed more accurately.
 */
import { FitError } from '../errors.js';
import type { ParityHint } from './activations.js';
import { chebyshevCoefficients, chebyshevPoints, parityApplies } from './chebyshev.js';
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
   * polynomial meeting it), or the levelled error exceeds it (de la Vallée Poussin: no polynomial of this degree
   * can meet it). Used by degree searches; the result is then flagged `stopReason: 'decided'`.
   * @default undefined (iterate to the tolerance)
   */
  decideAgainst?: number;
  /** Samples per domain piece for bracketing, per free coefficient. @default 20 */
  samplesPerCoefficient?: number;
  onProgress?: (p: MinimaxProgress) => void;
}

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
  toV(x: number): number;
  toX(v: number): number;
  /** p(x) = factor(x)·q(u(x)) with q a polynomial of degree n−1 in u (odd basis: factor t, else 1). */
  factor(x: number): number;
  /** Basis coefficients of factor·q, from q sampled at Chebyshev points (q: a function of u). */
  coefficients(q: (u: number) => number): Float64Array;
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
  };
}

/** Sort, validate and check disjointness of the intervals. */
export function normaliseIntervals(where: string, intervals: readonly Interval[]): Interval[] {
  if (!Array.isArray(intervals) || intervals.length === 0) throw new FitError(`${where}: no interval given`);
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

interface Piece {
  readonly xs: Float64Array;
  readonly gs: Float64Array;
  readonly ws: Float64Array;
  readonly es: Float64Array;
}

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
  for (let k = 0; k < left; k++) counts[order[k % order.length]![1]] += 1;
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
  const N = ref.length;
  const u = new Float64Array(N);
  const y = new Float64Array(N);
  const om = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    const x = ref[i]!;
    const fac = basis.factor(x);
    u[i] = basis.toV(x);
    y[i] = g(x) / fac;
    om[i] = w(x) * fac;
  }
  const logs = new Float64Array(N);
  let maxLog = -Infinity;
  for (let i = 0; i < N; i++) {
    let sum = 0;
    for (let j = 0; j < N; j++) if (j !== i) sum -= Math.log(Math.abs(u[i]! - u[j]!));
    logs[i] = sum;
    if (sum > maxLog) maxLog = sum;
  }
  const lam = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    // sign of Π_{j≠i}(u_i − u_j) for ascending u: (−1)^(number of j > i)
    lam[i] = ((N - 1 - i) % 2 === 0 ? 1 : -1) * Math.exp(logs[i]! - maxLog);
  }
  let num = 0;
  let den = 0;
  for (let i = 0; i < N; i++) {
    num += lam[i]! * y[i]!;
    den += (lam[i]! * (i % 2 === 0 ? 1 : -1)) / om[i]!;
  }
  const E = num / den;
  if (!Number.isFinite(E)) return null;
  const d = new Float64Array(N);
  for (let i = 0; i < N; i++) d[i] = y[i]! - ((i % 2 === 0 ? 1 : -1) * E) / om[i]!;
  const q = (v: number) => {
    let a = 0;
    let b = 0;
    for (let i = 0; i < N; i++) {
      const diff = v - u[i]!;
      if (diff === 0) return d[i]!;
      const t = lam[i]! / diff;
      a += t * d[i]!;
      b += t;
    }
    return a / b;
  };
  const c = basis.coefficients(q);
  for (const v of c) if (!Number.isFinite(v)) return null;
  return { c, E };
}

/**
 * The minimax (best uniform) polynomial of degree ≤ `degree` for f on the union of `intervals`.
 * Never hangs: at most `maxIterations` iterations, each with bounded work; if the tolerance is not met the best
 * iterate is returned with `converged: false`.
 */
export function fitMinimax(f: (x: number) => number, options: MinimaxOptions): MinimaxResult {
  const {
    degree,
    parity = null,
    weight,
    breakpoints = [0],
    maxIterations = 60,
    tolerance = 1e-6,
    samplesPerCoefficient = 20,
    decideAgainst,
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
  const lo = intervals[0]![0];
  const hi = intervals[intervals.length - 1]![1];
  const w = weight ?? (() => 1);

  const useParity =
    parity !== null &&
    parityApplies(parity, [lo, hi], degree) &&
    symmetricDomain(intervals) &&
    (weight === undefined || evenWeight(weight, hi));
  let basis: Basis;
  let domain: Interval[];
  let polyPower: readonly number[] = [];
  if (useParity) {
    const m = parity!.symmetry === 'even' ? Math.floor(degree / 2) : Math.floor((degree - 1) / 2);
    basis = reducedBasis(m + 1, hi, parity!.symmetry);
    domain = intervals.filter(([, b]) => b > 0).map(([a, b]) => [Math.max(a, 0), b] as const);
    polyPower = parity!.poly;
  } else {
    basis = fullBasis(degree + 1, lo, hi);
    domain = intervals;
  }
  const n = basis.n;
  const N = n + 1;
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

  // pieces: domain intervals split at breakpoints, grids in the natural variable, one-sided values at kinks
  const pieces: Piece[] = [];
  // samples per piece in proportion to its share of the Chebyshev angle (extrema are spread evenly in angle)
  const angle = (x: number) => Math.acos(Math.max(-1, Math.min(1, basis.toV(x))));
  const totalAngle = domain.reduce((sum, [a, b]) => sum + Math.abs(angle(a) - angle(b)), 0);
  for (const [a, b] of domain) {
    const cuts = [a, ...breakpoints.filter((p) => p > a && p < b).sort((p, q) => p - q), b];
    for (let i = 0; i + 1 < cuts.length; i++) {
      const l = cuts[i]!;
      const r = cuts[i + 1]!;
      const share = totalAngle > 0 ? Math.abs(angle(l) - angle(r)) / totalAngle : 1;
      const perPiece = Math.max(65, Math.ceil(samplesPerCoefficient * n * share) + 1);
      const xs = lobattoGrid(basis.toV(l), basis.toV(r), perPiece, basis.toX);
      xs[0] = i > 0 ? nudge(l, 1) : l;
      xs[xs.length - 1] = i + 2 < cuts.length ? nudge(r, -1) : r;
      const gs = xs.map(checkedValue);
      const ws = xs.map(checkedWeight);
      pieces.push({ xs, gs, ws, es: new Float64Array(xs.length) });
    }
  }
  let scale = 0;
  let wMax = 0;
  for (const p of pieces) {
    for (let i = 0; i < p.xs.length; i++) {
      scale = Math.max(scale, Math.abs(p.gs[i]! * p.ws[i]!));
      wMax = Math.max(wMax, p.ws[i]!);
    }
  }

  let ref = initialReference(domain, N, basis, useParity && parity!.symmetry === 'odd');
  // Better start on a single interval covering u ∈ [−1, 1]: the alternating error extrema of the Chebyshev
  // interpolant (1st-kind points, so the odd basis never divides by t = 0), which is already near-best.
  if (weight === undefined && domain.length === 1 && basis.toV(domain[0]![0]) <= -1 + 1e-15 && n > 1) {
    const us = chebyshevPoints(n, 1);
    const ys = us.map((u) => {
      const x = basis.toX(u);
      return checkedValue(x) / basis.factor(x);
    });
    const cu = chebyshevCoefficients(ys, 1);
    const c0 = basis.coefficients((u) => clenshaw(cu, u));
    const extrema: Extremum[] = [];
    const err0 = (x: number) => g(x) - basis.evaluate(c0, x);
    for (const p of pieces) {
      for (let i = 0; i < p.xs.length; i++) p.es[i] = p.gs[i]! - basis.evaluate(c0, p.xs[i]!);
      pieceExtrema(err0, p.xs, p.es, extrema);
    }
    const selected = selectAlternating(extrema, N);
    if (selected) {
      // keep the start with the larger levelled error: it is a lower bound of the minimax error (de la Vallée
      // Poussin), so the larger one is closer to the best reference (the interpolant's is poor for |x|-like f)
      const candidate = Float64Array.from(selected, (e) => e.x);
      const a = levelledBarycentric(ref, basis, checkedValue, checkedWeight);
      const b = levelledBarycentric(candidate, basis, checkedValue, checkedWeight);
      if (b && (!a || Math.abs(b.E) > Math.abs(a.E))) ref = candidate;
    }
  }
  const A = new Float64Array(N * N);
  const rhs = new Float64Array(N);
  let best: { c: Float64Array; E: number; maxErr: number; selected: Extremum[] | null } | null = null;
  let iterations = 0;
  let stopReason: MinimaxStopReason = 'max-iterations';
  let sinceImprovement = 0;
  let maxLevelled = 0;
  for (let it = 1; it <= maxIterations; it++) {
    iterations = it;
    let solved = levelledBarycentric(ref, basis, checkedValue, checkedWeight);
    if (solved === null) {
      // fallback: the reference system in the basis, LU with partial pivoting
      for (let i = 0; i < N; i++) {
        const x = ref[i]!;
        basis.row(x, A, i * N);
        A[i * N + n] = (i % 2 === 0 ? 1 : -1) / checkedWeight(x);
        rhs[i] = checkedValue(x);
      }
      try {
        solveLinearInPlace(A, rhs, N);
        solved = { c: rhs.slice(0, n), E: rhs[n]! };
      } catch (err) {
        if (best) {
          stopReason = 'stalled';
          break;
        }
        throw new FitError(`remez: degree ${degree}: the reference system is singular at iteration ${it}`, { cause: err });
      }
    }
    const { c, E } = solved;
    const err = (x: number) => w(x) * (g(x) - basis.evaluate(c, x));
    const extrema: Extremum[] = [];
    for (const p of pieces) {
      for (let i = 0; i < p.xs.length; i++) p.es[i] = p.ws[i]! * (p.gs[i]! - basis.evaluate(c, p.xs[i]!));
      pieceExtrema(err, p.xs, p.es, extrema);
    }
    let star: Extremum = { x: ref[0]!, value: 0 };
    for (const e of extrema) if (Math.abs(e.value) > Math.abs(star.value)) star = e;
    const maxErr = Math.abs(star.value);
    if (!Number.isFinite(maxErr)) {
      if (best) {
        stopReason = 'stalled';
        break;
      }
      throw new FitError(`remez: degree ${degree}: the error is not finite at iteration ${it}`);
    }
    const selected = selectAlternating(extrema, N);
    // progress: a smaller max error, or a levelled error (a lower bound of the optimum) up by more than 1%
    const levelledUp = Math.abs(E) > 1.01 * maxLevelled;
    maxLevelled = Math.max(maxLevelled, Math.abs(E));
    if (best === null || maxErr < best.maxErr) {
      best = { c, E, maxErr, selected };
      sinceImprovement = 0;
    } else if (levelledUp) sinceImprovement = 0;
    else sinceImprovement++;
    const gap = maxErr > 0 ? (maxErr - Math.abs(E)) / maxErr : 0;
    onProgress?.({ iteration: it, maxIterations, maxError: maxErr, levelledError: Math.abs(E), gap });
    if (gap <= tolerance) {
      stopReason = 'tolerance';
      break;
    }
    if (decideAgainst !== undefined && (best.maxErr <= decideAgainst || Math.abs(E) > decideAgainst)) {
      stopReason = 'decided';
      break;
    }
    let cSum = 0;
    for (const v of c) cSum += Math.abs(v);
    const rounding = 16 * 2 ** -52 * (scale + wMax * cSum);
    if (maxErr - Math.abs(E) <= rounding && best.maxErr <= maxErr) {
      stopReason = 'rounding-limit';
      break;
    }
    if (sinceImprovement >= 5) {
      stopReason = 'stalled';
      break;
    }
    const next = selected ? Float64Array.from(selected, (e) => e.x) : singleExchange(ref, E, star);
    if (next === null || next.every((x, i) => x === ref[i])) {
      stopReason = 'stalled';
      break;
    }
    ref = next;
  }
  const b = best!;
  // assemble the coefficients on the hull
  const full = new Array<number>(degree + 1).fill(0);
  if (useParity) {
    const off = parity!.symmetry === 'even' ? 0 : 1;
    for (let j = 0; j < n; j++) full[2 * j + off] = b.c[j]!;
    const pc = powerToChebyshev(polyPower, [lo, hi]);
    for (let j = 0; j < pc.length; j++) full[j] = full[j]! + pc[j]!;
  } else for (let j = 0; j < n; j++) full[j] = b.c[j]!;
  while (full.length > 1 && full[full.length - 1] === 0) full.pop();
  return {
    polynomial: { interval: [lo, hi], coefficients: full },
    degree: full.length - 1,
    parity: coefficientParity(full),
    reducedBasis: useParity,
    levelledError: Math.abs(b.E),
    maxWeightedError: b.maxErr,
    reference: b.selected ?? [],
    iterations,
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
