/**
 * Local extrema of an error curve, found the robust way: sample densely to bracket every local maximum of |e|,
 * then refine each bracket with Brent's method, or (where the samples are dense and the curve smooth) with
 * safeguarded parabolic steps that need a third of the evaluations. Used by the Remez exchange step and by the
 * max-error measurement, so the number a fit reports and the points the solver exchanges come from the same search.
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
 * Maximise h near a sampled local maximum (x0, h0) with neighbours (xl, hl), (xr, hr), xl < x0 < xr, h0 ≥ hl, hr:
 * successive parabolic interpolation (the vertex of the parabola through the best point and its bracketing
 * neighbours), at most `steps` evaluations, stopping early once a step moves less than `tolerance`·(xr − xl);
 * falls back to Brent on [xl, xr] when the first step is not an improvement. For smooth h sampled at 15–20 points
 * per oscillation two steps leave ~1e-7 relative in the value (enough to place a Remez exchange point, at a
 * third of Brent's evaluations), and three or four reach the rounding level. Returns the best point evaluated
 * (never worse than x0).
 */
export function parabolicMaximize(
  h: (x: number) => number,
  xl: number,
  hl: number,
  x0: number,
  h0: number,
  xr: number,
  hr: number,
  steps = 2,
  tolerance = 0,
): Extremum {
  let a = xl;
  let fa = hl;
  let x = x0;
  let fx = h0;
  let b = xr;
  let fb = hr;
  for (let it = 0; it < steps; it++) {
    // vertex of the parabola through (a, fa), (x, fx), (b, fb)
    const p = (x - a) * (x - a) * (fx - fb) - (x - b) * (x - b) * (fx - fa);
    const q = 2 * ((x - a) * (fx - fb) - (x - b) * (fx - fa));
    if (!(q !== 0)) break;
    const u = x - p / q;
    if (!(u > a && u < b) || u === x) break;
    const small = Math.abs(u - x) <= tolerance * (xr - xl);
    const fu = h(u);
    if (!Number.isFinite(fu)) break;
    if (fu < fx) {
      if (it === 0) return brentMaximize(h, xl, xr, x0, h0);
      break;
    }
    // keep the bracket around the new best point
    if (u < x) {
      b = x;
      fb = fx;
    } else {
      a = x;
      fa = fx;
    }
    x = u;
    fx = fu;
    if (small) break;
  }
  return { x, value: fx };
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
  /**
   * How a grid maximum is refined: Brent to full precision, or a few parabolic steps ({@link parabolicMaximize};
   * enough to place an exchange point, not for a reported figure).
   * @default 'brent'
   */
  refinement?: 'brent' | 'parabolic';
  /** Parabolic refinement: at most this many steps, fewer once a step moves < 1e-7 of the bracket. @default 2 */
  parabolicSteps?: number;
  /**
   * With parabolic refinement: the maxima within this relative distance of the piece's largest are then refined
   * by Brent as well (the figure that can be the maximum gets full precision; the others are far below it).
   * @default undefined (none)
   */
  polishWithin?: number;
  /**
   * The sampled values es are approximate (e.g. from an FFT): they only locate candidates (and shape the first
   * parabolic step), and e is evaluated again at every end and grid maximum kept, so every value returned is an
   * evaluation of e.
   * @default false
   */
  approximateSamples?: boolean;
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
  const {
    refineAbove = 0,
    maxIterations = 60,
    approximateSamples = false,
    refinement = 'brent',
    polishWithin,
    parabolicSteps = 2,
  } = options;
  const n = xs.length;
  if (n === 0) return;
  const at = (i: number) => (approximateSamples ? e(xs[i]!) : es[i]!);
  if (n === 1) {
    const v = at(0);
    if (v !== 0) out.push({ x: xs[0]!, value: v });
    return;
  }
  let gridMax = 0;
  for (let i = 0; i < n; i++) gridMax = Math.max(gridMax, Math.abs(es[i]!));
  const threshold = refineAbove * gridMax;
  const a0 = Math.abs(es[0]!);
  if (a0 > 0 && a0 >= Math.abs(es[1]!) && a0 >= threshold) {
    const v = at(0);
    if (v !== 0) out.push({ x: xs[0]!, value: v });
  }
  const polish = refinement === 'parabolic' && polishWithin !== undefined ? { first: out.length, brackets: [] as number[] } : null;
  for (let i = 1; i < n - 1; i++) {
    let ai = Math.abs(es[i]!);
    if (ai === 0 || ai < Math.abs(es[i - 1]!) || ai <= Math.abs(es[i + 1]!)) continue;
    if (ai < threshold) continue;
    const vi = at(i);
    ai = Math.abs(vi);
    if (ai === 0) continue;
    const s = vi > 0 ? 1 : -1;
    const hs = (x: number) => s * e(x);
    const best =
      refinement === 'parabolic'
        ? parabolicMaximize(hs, xs[i - 1]!, s * es[i - 1]!, xs[i]!, ai, xs[i + 1]!, s * es[i + 1]!, parabolicSteps, 1e-7)
        : brentMaximize(hs, xs[i - 1]!, xs[i + 1]!, xs[i]!, ai, maxIterations);
    out.push(best.value > ai ? { x: best.x, value: s * best.value } : { x: xs[i]!, value: vi });
    polish?.brackets.push(i);
  }
  if (polish) {
    let top = 0;
    for (let j = polish.first; j < out.length; j++) top = Math.max(top, Math.abs(out[j]!.value));
    polish.brackets.forEach((i, j) => {
      const ex = out[polish.first + j]!;
      if (Math.abs(ex.value) < top * (1 - polishWithin!)) return;
      const s = ex.value > 0 ? 1 : -1;
      const best = brentMaximize((x) => s * e(x), xs[i - 1]!, xs[i + 1]!, ex.x, Math.abs(ex.value), maxIterations);
      if (best.value > Math.abs(ex.value)) out[polish.first + j] = { x: best.x, value: s * best.value };
    });
  }
  const an = Math.abs(es[n - 1]!);
  if (an > 0 && an >= Math.abs(es[n - 2]!) && an >= threshold) {
    const v = at(n - 1);
    if (v !== 0) out.push({ x: xs[n - 1]!, value: v });
  }
}

/** Nudge an interior breakpoint by one unit in the last place towards the inside of its piece (one-sided values). */
export function nudge(x: number, direction: 1 | -1): number {
  if (x === 0) return direction * Number.MIN_VALUE;
  return x + direction * Math.abs(x) * 2 ** -52;
}
