/**
 * Chebyshev interpolation: sample f at Chebyshev points of the 1st or 2nd kind on [a, b] and get the
 * coefficients of the interpolant in the Chebyshev basis (c_0 not halved, polynomial.ts convention) by a
 * discrete cosine transform.
 *
 * The DCT is the direct O(n²) sum with a precomputed cosine table (no FFT): n ≤ 1025 here, where it takes
 * ~2 ms (measured in bench/fit.ts), well below the cost of measuring the interpolant's error.
 *
 * The reverse direction on dense grids — the values of a series at M+1 Chebyshev–Lobatto points, M a power of
 * two — is a DCT-I done by a radix-2 FFT in O(M log M) ({@link chebyshevLobattoValues}); the Remez exchange
 * and the error measurement sample error curves that way instead of M Clenshaw sums of O(n) each.
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

const LOBATTO_POINTS = new Map<number, Float64Array>();

/**
 * {@link chebyshevPoints}(M + 1) for a power of two M (the grid of {@link chebyshevLobattoValues}), computed once
 * per M and shared: callers must not modify it.
 */
export function lobattoPoints(M: number): Float64Array {
  let u = LOBATTO_POINTS.get(M);
  if (!u) {
    u = chebyshevPoints(M + 1);
    LOBATTO_POINTS.set(M, u);
  }
  return u;
}

/**
 * Tables of the Lobatto-grid transform of size M, built once per size: cos(πk/M), sin(πk/M) for k = 0..M (the
 * FFT of size M uses every second one), the bit-reversal permutation, and scratch arrays.
 */
interface LobattoWork {
  readonly cos: Float64Array;
  readonly sin: Float64Array;
  readonly rev: Uint32Array;
  readonly re: Float64Array;
  readonly im: Float64Array;
  readonly folded: Float64Array;
}
const LOBATTO_WORK = new Map<number, LobattoWork>();

function lobattoWork(M: number): LobattoWork {
  let w = LOBATTO_WORK.get(M);
  if (!w) {
    const cos = new Float64Array(M + 1);
    const sin = new Float64Array(M + 1);
    for (let k = 0; k <= M; k++) {
      cos[k] = Math.cos((Math.PI * k) / M);
      sin[k] = Math.sin((Math.PI * k) / M);
    }
    const bits = Math.round(Math.log2(M));
    const rev = new Uint32Array(M);
    for (let i = 0; i < M; i++) {
      let r = 0;
      for (let b = 0, x = i; b < bits; b++, x >>= 1) r = (r << 1) | (x & 1);
      rev[i] = r;
    }
    w = { cos, sin, rev, re: new Float64Array(M), im: new Float64Array(M), folded: new Float64Array(M + 1) };
    LOBATTO_WORK.set(M, w);
  }
  return w;
}

/** In-place forward DFT X_k = Σ x_j e^{−2πijk/M} of (re, im) of size M (Cooley–Tukey, iterative radix 2). */
function fftInPlace(re: Float64Array, im: Float64Array, { cos, sin, rev }: LobattoWork): void {
  const n = re.length;
  for (let i = 0; i < n; i++) {
    const j = rev[i]!;
    if (j > i) {
      let t = re[i]!;
      re[i] = re[j]!;
      re[j] = t;
      t = im[i]!;
      im[i] = im[j]!;
      im[j] = t;
    }
  }
  for (let size = 2; size <= n; size <<= 1) {
    const half = size >> 1;
    // e^{−2πik/size} = cos/sin of π·(2k·n/size)/n
    const step = (2 * n) / size;
    for (let start = 0; start < n; start += size) {
      for (let k = 0, tw = 0; k < half; k++, tw += step) {
        const a = start + k;
        const b = a + half;
        const wr = cos[tw]!;
        const wi = -sin[tw]!;
        const xr = re[b]! * wr - im[b]! * wi;
        const xi = re[b]! * wi + im[b]! * wr;
        re[b] = re[a]! - xr;
        im[b] = im[a]! - xi;
        re[a] = re[a]! + xr;
        im[a] = im[a]! + xi;
      }
    }
  }
}

/**
 * Values of Σ_j c_j T_j(u) (c_0 not halved) at the M+1 Chebyshev–Lobatto points u_k = cos(πk/M), k = 0..M
 * (descending, the order of {@link chebyshevPoints}(M+1)); M must be a power of two. A DCT-I: the DFT of the
 * even extension a (length 2M, real) computed as one complex FFT of size M of z_m = a_{2m} + i·a_{2m+1} and the
 * usual split A_k = F_k + e^{−iπk/M}·G_k; O(M log M). Terms of degree > M are folded onto the grid exactly
 * (T_j = T_{2M−j} there). Rounding error ≈ 1e-16·log2(M)·Σ|c_j|: use it to sample, evaluate by Clenshaw where a
 * value is reported. `into` (length M+1) receives the values instead of a new array.
 */
export function chebyshevLobattoValues(c: ArrayLike<number>, M: number, into?: Float64Array): Float64Array {
  if (!Number.isInteger(M) || M < 1 || (M & (M - 1)) !== 0) throw new FitError(`chebyshev: grid size M must be a power of two, got ${M}`);
  const out = into && into.length === M + 1 ? into : new Float64Array(M + 1);
  const n2 = 2 * M;
  if (M === 1) {
    let c0 = 0;
    let c1 = 0;
    for (let j = 0; j < c.length; j++) {
      if (j % 2 === 0) c0 += c[j]!;
      else c1 += c[j]!;
    }
    out[0] = c0 + c1;
    out[1] = c0 - c1;
    return out;
  }
  const work = lobattoWork(M);
  const { re, im, folded, cos, sin } = work;
  folded.fill(0);
  for (let j = 0; j < c.length; j++) {
    let jj = j % n2;
    if (jj > M) jj = n2 - jj;
    folded[jj] = folded[jj]! + c[j]!;
  }
  // even extension a_j = folded[j] (j ≤ M), a_{2M−j} = folded[j]; z_m = a_{2m} + i·a_{2m+1}
  for (let m = 0; m < M; m++) {
    const j = 2 * m;
    re[m] = j <= M ? folded[j]! : folded[n2 - j]!;
    im[m] = j + 1 <= M ? folded[j + 1]! : folded[n2 - j - 1]!;
  }
  fftInPlace(re, im, work);
  // A_k = Σ a_j e^{−iπjk/M} (real) = Re F_k + cos(πk/M)·Re G_k + sin(πk/M)·Im G_k with Z_M ≡ Z_0
  const c0 = folded[0]!;
  const cM = folded[M]!;
  for (let k = 0; k <= M; k++) {
    const k1 = k === M ? 0 : k;
    const k2 = k === 0 ? 0 : M - k;
    const zr = re[k1]!;
    const zi = im[k1]!;
    const wr = re[k2]!;
    const wi = im[k2]!;
    const A = 0.5 * (zr + wr) + 0.5 * cos[k]! * (zi + wi) - 0.5 * sin[k]! * (zr - wr);
    // A_k = c_0 + (−1)^k c_M + 2·Σ_{0<j<M} c_j cos(πjk/M)
    out[k] = 0.5 * (A + c0 + (k % 2 === 0 ? cM : -cM));
  }
  return out;
}
