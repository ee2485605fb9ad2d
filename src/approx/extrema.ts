/**
 * Local extrema of an error curve, found the robust way: sample densely to bracket every local maximum of |e|,
 * then refine each bracket with Brent's method. Used by the Remez exchange step and by the max-error
 * measurement, so the number a fit reports and the points the solver exchanges come from the same search.
 */

/** A point of an error curve: x and the signed error e(x) there. */
export interface Extremum {
  readonly x: number;
  readonly value: number;
}

const SQRT_EPS = Math.sqrt(2 ** -52);
const GOLDEN = 0.3819660112501051; // (3 − √5)/2

/**
 * Maximise h on [a, b] starting from x0 ∈ [a, b] (Brent, "Algorithms for Minimization without Derivatives",
 * 1973, ch. 5: golden section with parabolic interpolation). Returns the best point seen (never worse than x0).
 */
export function brentMaximize(
  h: (x: number) => number,
  a: number,
  b: number,
  x0: number,
  h0: number = h(x0),
  maxIterations = 60,
): Extremum {
  // minimise g = −h
  let x = x0;
  let w = x0;
  let v = x0;
  let fx = -h0;
  let fw = fx;
  let fv = fx;
  let d = 0;
  let e = 0;
  const absTol = 1e-300 + SQRT_EPS * 1e-6 * (Math.abs(a) + Math.abs(b));
  for (let it = 0; it < maxIterations; it++) {
    const m = 0.5 * (a + b);
    const tol1 = SQRT_EPS * Math.abs(x) + absTol;
    const tol2 = 2 * tol1;
    if (Math.abs(x - m) <= tol2 - 0.5 * (b - a)) break;
    let useGolden = true;
    if (Math.abs(e) > tol1) {
      // parabola through (v, fv), (w, fw), (x, fx)
      let r = (x - w) * (fx - fv);
      let q = (x - v) * (fx - fw);
      let p = (x - v) * q - (x - w) * r;
      q = 2 * (q - r);
      if (q > 0) p = -p;
      else q = -q;
      r = e;
      e = d;
      if (Math.abs(p) < Math.abs(0.5 * q * r) && p > q * (a - x) && p < q * (b - x)) {
        d = p / q;
        const u = x + d;
        if (u - a < tol2 || b - u < tol2) d = x < m ? tol1 : -tol1;
        useGolden = false;
      }
    }
    if (useGolden) {
      e = (x < m ? b : a) - x;
      d = GOLDEN * e;
    }
    const u = x + (Math.abs(d) >= tol1 ? d : d > 0 ? tol1 : -tol1);
    const fu = -h(u);
    if (!Number.isFinite(fu)) break;
    if (fu <= fx) {
      if (u < x) b = x;
      else a = x;
      v = w;
      fv = fw;
      w = x;
      fw = fx;
      x = u;
      fx = fu;
    } else {
      if (u < x) a = u;
      else b = u;
      if (fu <= fw || w === x) {
        v = w;
        fv = fw;
        w = u;
        fw = fu;
      } else if (fu <= fv || v === x || v === w) {
        v = u;
        fv = fu;
      }
    }
  }
  return { x, value: -fx };
}

/**
 * Chebyshev–Lobatto points of a variable v on [lo, hi], ascending, mapped to x by `toX` (identity by default).
 * The ends are exact. Dense near both ends, where extrema of polynomial errors cluster.
 */
export function lobattoGrid(lo: number, hi: number, count: number, toX?: (v: number) => number): Float64Array {
  const n = Math.max(2, count);
  const out = new Float64Array(n);
  const mid = 0.5 * (lo + hi);
  const half = 0.5 * (hi - lo);
  for (let k = 0; k < n; k++) {
    const v = k === 0 ? lo : k === n - 1 ? hi : mid - half * Math.cos((Math.PI * k) / (n - 1));
    out[k] = toX ? toX(v) : v;
  }
  return out;
}

export interface ExtremaSearchOptions {
  /**
   * Refine only grid maxima with |e| ≥ refineAbove·(largest |e| on the grid); 0 refines every one.
   * @default 0
   */
  refineAbove?: number;
  /** Brent iterations per bracket. @default 60 */
  maxIterations?: number;
}

/**
 * Local maxima of |e| on one piece sampled at xs (ascending; xs[0] and xs[last] are the piece's ends) with
 * values es = e(xs). Interior grid maxima are refined by Brent on their bracket [xs[i−1], xs[i+1]]; the ends are
 * kept as they are when |e| there is at least |e| at the neighbouring sample (an endpoint or kink maximum).
 * Appends to `out` in ascending x.
 */
export function pieceExtrema(
  e: (x: number) => number,
  xs: ArrayLike<number>,
  es: ArrayLike<number>,
  out: Extremum[],
  options: ExtremaSearchOptions = {},
): void {
  const { refineAbove = 0, maxIterations = 60 } = options;
  const n = xs.length;
  if (n === 0) return;
  if (n === 1) {
    if (es[0] !== 0) out.push({ x: xs[0]!, value: es[0]! });
    return;
  }
  let gridMax = 0;
  for (let i = 0; i < n; i++) gridMax = Math.max(gridMax, Math.abs(es[i]!));
  const threshold = refineAbove * gridMax;
  const a0 = Math.abs(es[0]!);
  if (a0 > 0 && a0 >= Math.abs(es[1]!) && a0 >= threshold) out.push({ x: xs[0]!, value: es[0]! });
  for (let i = 1; i < n - 1; i++) {
    const ai = Math.abs(es[i]!);
    if (ai === 0 || ai < Math.abs(es[i - 1]!) || ai <= Math.abs(es[i + 1]!)) continue;
    if (ai < threshold) continue;
    const s = es[i]! > 0 ? 1 : -1;
    const best = brentMaximize((x) => s * e(x), xs[i - 1]!, xs[i + 1]!, xs[i]!, ai, maxIterations);
    out.push(best.value > ai ? { x: best.x, value: s * best.value } : { x: xs[i]!, value: es[i]! });
  }
  const an = Math.abs(es[n - 1]!);
  if (an > 0 && an >= Math.abs(es[n - 2]!) && an >= threshold) out.push({ x: xs[n - 1]!, value: es[n - 1]! });
}

/** Nudge an interior breakpoint by one unit in the last place towards the inside of its piece (one-sided values). */
export function nudge(x: number, direction: 1 | -1): number {
  if (x === 0) return direction * Number.MIN_VALUE;
  return x + direction * Math.abs(x) * 2 ** -52;
}
