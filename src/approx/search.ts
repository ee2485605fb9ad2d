/**
 * Precision-driven search: for an activation, a range and a target 2^-k, the smallest degree whose MEASURED max
 * error meets the target, per method, and the cheapest method by (depth, ciphertext multiplications).
 *
 * Degree search: exponential (doubling) until a degree meets the target, then a bracketed search between the
 * largest failing and the smallest passing degree, probing where log(error) interpolated linearly in log(degree)
 * crosses the target (bisection when that does not shrink the bracket); it ends when the bracket's ends are
 * adjacent candidate degrees, so the result is minimal among the candidates. With a parity hint only degrees that
 * add a free coefficient are candidates (even part: 2, 4, 6, …; odd part: 1, 3, 5, …).
 * Remez is bracketed by the Chebyshev result: the minimax error is at most the interpolant's, and at least the
 * interpolant's divided by 1 + Λ_n ≤ 2 + (2/π)·ln(n+1) (Lebesgue constant of Chebyshev points).
 *
 * Probes are cheap where it is safe. A Remez probe is warm-started from the reference of the nearest degree
 * fitted so far (same degree parity first: for near-even functions the references of odd and even degrees
 * differ) and stops as soon as the target is decided: a levelled error above it (by more than rounding) proves
 * the degree and every lower one out of reach (de la Vallée Poussin); one that meets it by its own extremum
 * search runs on to a 1% gap, so its error is an estimate to interpolate. A Chebyshev probe is judged on its
 * error sampled on a dense grid (a lower bound within a few percent). Probes are never the final word: the
 * degree found is measured, and if the measurement misses the target the search goes on above it. The chosen
 * Remez degree is refitted from the default start to full convergence, so the polynomial returned depends only
 * on the degree, not on the probes. Lower bounds, references and sampled values live beside the fit cache, so a
 * sweep over k reuses them.
 */
import { FitError } from '../errors.js';
import type { Activation } from './activations.js';
import { compareCost, polynomialCost } from './cost.js';
import { fitCompositeSign, searchSignFinish } from './composite.js';
import {
  compositeFinish,
  compositeFromSign,
  fitApproximation,
  FIT_METHODS,
  minimaxFit,
  type AsymmetricWeight,
  type FitMethod,
  type FittedApproximation,
} from './fitted.js';
import { chebyshevInterpolant, parityApplies } from './chebyshev.js';
import { sampledMaxError } from './max-error.js';
import { fitMinimax, LEVELLED_MARGIN, type SampleCache } from './remez.js';

/**
 * Composite ReLU on [−1, 1] reaching 2^-k: stage degrees and gap ε found by `searchSignFinish('relu', 2^-k)`
 * (smallest depth, then fewest ciphertext multiplications). Rebuilt and re-measured at every use; |x| at
 * precision k uses the ReLU entry for k+1 (|x| = 2·ReLU(x) − x). Regenerate with `searchSignFinish`.
 */
export const RELU_COMPOSITES: Readonly<Record<number, { readonly degrees: readonly number[]; readonly epsilon: number }>> = Object.freeze({
  4: { degrees: [3], epsilon: 0.44630407643363323 },
  5: { degrees: [7], epsilon: 0.28026099028974594 },
  6: { degrees: [3, 7], epsilon: 0.15252395276824687 },
  7: { degrees: [7, 7], epsilon: 0.08433761970774828 },
  8: { degrees: [7, 15], epsilon: 0.045984877188519735 },
  9: { degrees: [15, 15], epsilon: 0.025118928587358307 },
  10: { degrees: [7, 7, 13], epsilon: 0.012438073956147818 },
  11: { degrees: [7, 13, 15], epsilon: 0.006509644304872305 },
  12: { degrees: [13, 15, 15], epsilon: 0.0034188387734496624 },
  13: { degrees: [13, 15, 29], epsilon: 0.001871954011292988 },
  14: { degrees: [13, 29, 31], epsilon: 0.0009857394246472193 },
  15: { degrees: [25, 31, 31], epsilon: 0.0005227415231345342 },
  16: { degrees: [25, 31, 63], epsilon: 0.00027007941875640537 },
  17: { degrees: [27, 59, 63], epsilon: 0.0001409439332763204 },
  18: { degrees: [53, 63, 63], epsilon: 0.0000724254508227072 },
  19: { degrees: [13, 15, 15, 15, 15], epsilon: 0.000038060822574876416 },
  20: { degrees: [13, 15, 15, 15, 31], epsilon: 0.000018598950258389995 },
});

/** Progress of a precision search. */
export interface SearchProgress {
  readonly method: FitMethod;
  readonly degree: number;
  readonly maxError: number;
  readonly target: number;
}

/** Fits made during searches, by activation, interval, method, degree and weight (shared across targets). */
export type FitCache = Map<string, FittedApproximation>;

export interface PrecisionOptions {
  /** Input range [a, b]. */
  interval: readonly [number, number];
  /** Target precision: measured max error ≤ 2^-k, k in 1..40. */
  k: number;
  /** Methods to try; composite only where supported (relu, abs). @default ['chebyshev', 'remez', 'composite'] */
  methods?: readonly FitMethod[];
  /** Remez only: asymmetric weight (the target then applies to the unweighted error). @default undefined */
  weight?: AsymmetricWeight;
  /** Largest degree tried. @default 1024 */
  maxDegree?: number;
  /** Reuse fits across calls (e.g. a catalog sweep over k). @default a fresh cache */
  cache?: FitCache;
  onProgress?: (p: SearchProgress) => void;
}

/** The result of one method in a precision search. */
export interface Alternative {
  readonly method: FitMethod;
  /** Null: the method cannot reach the target. */
  readonly fit: FittedApproximation | null;
  readonly note?: string;
}

/** The chosen fit plus what every method reached. */
export interface PrecisionFit extends FittedApproximation {
  readonly k: number;
  readonly target: number;
  /**
   * Best result of each method tried (null: the method cannot reach the target). Methods whose result is deeper
   * than the chosen fit (so they could not be chosen) are fitted and measured when this is first read; it is
   * not an enumerable property (a spread of the fit does not compute them).
   */
  readonly alternatives: readonly Alternative[];
}

/** Candidate degrees for a single-polynomial fit (see the module comment). */
export function candidateDegrees(act: Activation, interval: readonly [number, number], maxDegree: number, weighted: boolean): number[] {
  const out: number[] = [];
  const hint = act.parity;
  const reduced = !weighted && hint !== null && parityApplies(hint, interval, maxDegree);
  for (let d = 1; d <= maxDegree; d++) {
    if (reduced && d > 1) {
      if (hint!.symmetry === 'even' && d % 2 === 1) continue;
      if (hint!.symmetry === 'odd' && d % 2 === 0) continue;
      if (!parityApplies(hint, interval, d)) continue;
    }
    out.push(d);
  }
  return out;
}

function weightKey(w: AsymmetricWeight | undefined): string {
  return w ? `w${w.negative}/${w.positive}` : '';
}

/** Remez probes that meet the target run on until their gap is at most this (an error estimate to interpolate). */
const PROBE_GAP = 0.01;
/** The first probe of an extrapolated search lands this much above the predicted degree (so it likely meets). */
const OVERSHOOT = 1.05;
/** Warm starts come from a reference of the same degree parity within this relative distance in degree … */
const SAME_PARITY_WITHIN = 0.25;
/** … or else of any degree within this (farther, a cold start is cheaper than a poor warm one). */
const ANY_PARITY_WITHIN = 0.05;

/** Outcome of one probe of a degree search: whether the degree meets the target, and an error figure for it. */
interface Probe {
  readonly pass: boolean;
  /** The measured error, or for a failing Remez probe its lower bound (for interpolating the next degree). */
  readonly error: number;
}

/**
 * Index of the smallest candidate degree whose probe meets `target` (see the module comment). `known(i)` returns
 * an error already established for candidate i (cached fits, lower bounds, a Chebyshev-derived bound for Remez),
 * so sweeps over k reuse probes. Returns null if the last candidate fails.
 */
function searchDegree(
  probe: (i: number) => Probe,
  candidates: readonly number[],
  target: number,
  known: (i: number) => number | undefined,
  reliable: (i: number) => boolean = () => true,
): number | null {
  const errAt = new Map<number, number>();
  let lo = -1;
  let hi = -1;
  for (let i = 0; i < candidates.length; i++) {
    const e = known(i);
    if (e === undefined) continue;
    errAt.set(i, e);
    if (e > target) lo = Math.max(lo, i);
  }
  for (const [i, e] of errAt) if (e <= target && i > lo && (hi < 0 || i < hi)) hi = i;
  const ok = (i: number) => {
    const p = probe(i);
    errAt.set(i, p.error);
    return p.pass;
  };
  const last = candidates.length - 1;
  /**
   * The next degree above failing index i: doubled, or where two failing errors extrapolate (log-log) to meet the
   * target if that is less (OVERSHOOT over, to land above it); the partner of the largest failing probe is the largest
   * at ≤ 3/4 of its degree if any (neighbouring degrees differ by parity effects). Only `reliable` errors (close
   * to the true one, not a loose bound) are extrapolated when there are two.
   */
  const above = (i: number) => {
    let nextDegree = 2 * candidates[i]!;
    const all = [...errAt].filter(([, e]) => e > target).sort((p, q) => q[0] - p[0]);
    const close = all.filter(([j]) => reliable(j));
    const failing = close.length >= 2 ? close : all;
    if (failing.length >= 2) {
      const [i1, e1] = failing[0]!;
      const [i0, e0] = failing.find(([j]) => candidates[j]! <= 0.75 * candidates[i1]!) ?? failing[1]!;
      const slope = (Math.log(e1) - Math.log(e0)) / (Math.log(candidates[i1]!) - Math.log(candidates[i0]!));
      if (slope < 0) {
        const pred = candidates[i1]! * Math.exp((Math.log(target) - Math.log(e1)) / slope);
        nextDegree = Math.min(nextDegree, Math.ceil(OVERSHOOT * pred));
      }
    }
    const next = candidates.findIndex((d) => d >= nextDegree);
    return next < 0 ? last : Math.max(next, i + 1);
  };
  if (hi < 0) {
    // exponential phase: above the largest known failure, extrapolated from known failures when there are two
    let i = lo >= 0 ? above(lo) : 0;
    for (;;) {
      if (i > last) i = last;
      if (ok(i)) {
        hi = i;
        break;
      }
      lo = i;
      if (i === last) return null;
      i = above(i);
    }
  }
  let width = hi - lo;
  let interpolate = true;
  let slow = 0;
  while (hi - lo > 1) {
    let mid = (lo + hi) >> 1;
    const eLo = errAt.get(lo);
    const eHi = errAt.get(hi);
    if (interpolate && lo >= 0 && eLo !== undefined && eHi !== undefined && eLo > target && eHi > 0 && eHi < eLo) {
      // where log(error), linear in log(degree) between the bracket ends, crosses the target
      const dLo = Math.log(candidates[lo]!);
      const dHi = Math.log(candidates[hi]!);
      const frac = (Math.log(eLo) - Math.log(target)) / (Math.log(eLo) - Math.log(eHi));
      const dPred = Math.exp(dLo + frac * (dHi - dLo));
      let idx = candidates.findIndex((d) => d >= dPred);
      if (idx < 0) idx = hi;
      mid = Math.min(hi - 1, Math.max(lo + 1, idx));
    }
    if (ok(mid)) hi = mid;
    else lo = mid;
    // fall back to bisection when interpolation twice in a row does not halve the bracket
    const w = hi - lo;
    slow = interpolate && w > width / 2 ? slow + 1 : 0;
    interpolate = slow < 2;
    if (!interpolate) slow = 0;
    width = w;
  }
  return hi;
}

/** What Remez probes established for one (activation, interval, weight): lower bounds and references by degree. */
interface RemezBounds {
  /** Largest levelled error seen per degree: the minimax error of that degree is at least this. */
  readonly lower: Map<number, number>;
  /** Smallest max error a probe's own extremum search found per degree (an estimate, not measured). */
  readonly solverError: Map<number, number>;
  /** The most converged alternating reference per degree, with its solver gap (a warm start). */
  readonly references: Map<number, { readonly x: readonly number[]; readonly gap: number }>;
}

/** Remez bounds kept beside each fit cache (they live exactly as long as the cache). */
const REMEZ_BOUNDS = new WeakMap<FitCache, Map<string, RemezBounds>>();

function remezBounds(cache: FitCache, key: string): RemezBounds {
  let byKey = REMEZ_BOUNDS.get(cache);
  if (!byKey) REMEZ_BOUNDS.set(cache, (byKey = new Map()));
  let b = byKey.get(key);
  if (!b) byKey.set(key, (b = { lower: new Map(), solverError: new Map(), references: new Map() }));
  return b;
}

/** For one (activation, interval): sampled (estimated) errors of Chebyshev interpolants by degree, and the degrees
 * with a fit in the cache per method key (a cheap test before building the cache key string). */
interface ProbeRecords {
  readonly chebyshev: Map<number, number>;
  readonly fitted: Map<string, Set<number>>;
  /** f's values on the Remez sampling grids (every fit of the same f on the interval shares them). */
  readonly samples: SampleCache;
}
const PROBE_RECORDS = new WeakMap<FitCache, Map<string, ProbeRecords>>();

function probeRecords(cache: FitCache, key: string): ProbeRecords {
  let byKey = PROBE_RECORDS.get(cache);
  if (!byKey) PROBE_RECORDS.set(cache, (byKey = new Map()));
  let r = byKey.get(key);
  if (!r) byKey.set(key, (r = { chebyshev: new Map(), fitted: new Map(), samples: new Map() }));
  return r;
}

/**
 * Warm start for degree d: the reference of the nearest degree of the same parity (within SAME_PARITY_WITHIN),
 * else of the nearest degree (within ANY_PARITY_WITHIN), else none (the default start); only references whose
 * solver gap was below 5% (a start from a poor reference can stall the exchange).
 */
function nearestReference(bounds: RemezBounds, d: number): readonly number[] | undefined {
  let same: number | undefined;
  let any: number | undefined;
  for (const [e, ref] of bounds.references) {
    if (!(ref.gap < 0.05)) continue;
    if (any === undefined || Math.abs(e - d) < Math.abs(any - d) || (Math.abs(e - d) === Math.abs(any - d) && e > any)) any = e;
    if (
      (e - d) % 2 === 0 &&
      (same === undefined || Math.abs(e - d) < Math.abs(same - d) || (Math.abs(e - d) === Math.abs(same - d) && e > same))
    )
      same = e;
  }
  const pick =
    same !== undefined && Math.abs(same - d) <= Math.max(4, SAME_PARITY_WITHIN * d)
      ? same
      : any !== undefined && Math.abs(any - d) <= Math.max(4, ANY_PARITY_WITHIN * d)
        ? any
        : undefined;
  return pick === undefined ? undefined : bounds.references.get(pick)!.x;
}

function cheaper(a: FittedApproximation, b: FittedApproximation): boolean {
  const c = compareCost(a.cost, b.cost);
  return c < 0 || (c === 0 && a.maxError < b.maxError);
}

/** The cheapest fit of `act` on `interval` whose measured max error is ≤ 2^-k (see the module comment). */
export function fitForPrecision(act: Activation, options: PrecisionOptions): PrecisionFit {
  const { interval, k, methods = FIT_METHODS, weight, maxDegree = 1024, onProgress } = options;
  const cache: FitCache = options.cache ?? new Map();
  if (!Number.isInteger(k) || k < 1 || k > 40) throw new FitError(`precision: k must be an integer in 1..40, got ${k}`);
  if (!Number.isInteger(maxDegree) || maxDegree < 1 || maxDegree > 1024) {
    throw new FitError(`precision: maxDegree must be an integer in 1..1024, got ${maxDegree}`);
  }
  for (const m of methods) if (!FIT_METHODS.includes(m)) throw new FitError(`unknown method '${m}'; valid: ${FIT_METHODS.join(', ')}`);
  const [a, b] = interval;
  if (!Number.isFinite(a) || !Number.isFinite(b)) throw new FitError(`precision: interval [${a}, ${b}] is not finite`);
  if (!(a < b)) throw new FitError(`precision: interval [${a}, ${b}] is empty or inverted (need a < b)`);
  const target = 2 ** -k;
  const spec = act.toString();
  /** Each method's result: settled now, or (if it cannot be chosen) computed when `alternatives` is read. */
  const slots: ({ now: Alternative } | { depth: () => number; later: () => Alternative })[] = [];
  /** The minimax fit meeting the target, if any. */
  let remez: FittedApproximation | null = null;
  const plain = candidateDegrees(act, interval, maxDegree, false);
  const keyOf = (method: 'chebyshev' | 'remez', degree: number) =>
    `${spec}|${a},${b}|${method}|${degree}|${method === 'remez' ? weightKey(weight) : ''}`;
  const probes = probeRecords(cache, `${spec}|${a},${b}`);
  const fittedKey = (method: 'chebyshev' | 'remez') => (method === 'remez' ? `remez|${weightKey(weight)}` : method);
  const fittedSet = (method: 'chebyshev' | 'remez') => {
    let set = probes.fitted.get(fittedKey(method));
    if (!set) probes.fitted.set(fittedKey(method), (set = new Set()));
    return set;
  };
  const chebyshevFitted = fittedSet('chebyshev');
  const remezFitted = fittedSet('remez');
  /** Store a fit of a method at a degree in the cache. */
  const store = (method: 'chebyshev' | 'remez', key: string, degree: number, fit: FittedApproximation) => {
    cache.set(key, fit);
    (method === 'remez' ? remezFitted : chebyshevFitted).add(degree);
  };
  const cachedError = (method: 'chebyshev' | 'remez', degree: number) =>
    (method === 'remez' ? remezFitted : chebyshevFitted).has(degree) ? cache.get(keyOf(method, degree))?.maxError : undefined;
  /** A cached fit, or fit now (and cache) by the request. */
  const fitCached = (method: 'chebyshev' | 'remez', key: string, degree: number, request: () => FittedApproximation) => {
    let f = cache.get(key);
    if (!f) {
      f = request();
      store(method, key, degree, f);
    }
    onProgress?.({ method: f.method, degree, maxError: f.maxError, target });
    return f;
  };
  const f = (x: number) => act.f(x);
  if (methods.includes('chebyshev')) {
    const chebyshevAt = (degree: number) =>
      fitCached('chebyshev', keyOf('chebyshev', degree), degree, () => fitApproximation(act, { interval, method: 'chebyshev', degree }));
    /** The measured error if the interpolant was measured, else its sampled estimate (a lower bound). */
    const chebyshevError = (degree: number): number | undefined => cachedError('chebyshev', degree) ?? probes.chebyshev.get(degree);
    const probe = (i: number): Probe => {
      const degree = plain[i]!;
      let e = chebyshevError(degree);
      if (e === undefined) {
        e = sampledMaxError(f, chebyshevInterpolant(f, interval, degree, { parity: act.parity }));
        probes.chebyshev.set(degree, e);
      }
      onProgress?.({ method: 'chebyshev', degree, maxError: e, target });
      return { pass: e <= target, error: e };
    };
    // probes decide on the sampled estimate; the degree found is measured, and searched again if it misses
    const search = () => searchDegree(probe, plain, target, (i) => chebyshevError(plain[i]!));
    const found = search();
    const verified = (): Alternative => {
      for (let hi = found; hi !== null; hi = search()) {
        const fit = chebyshevAt(plain[hi]!);
        if (fit.maxError <= target) return { method: 'chebyshev', fit };
        // measured now: chebyshevError(degree) is that figure, above the target
      }
      return { method: 'chebyshev', fit: null };
    };
    // the depth of the interpolant found (a search again can only go higher): deeper than the minimax fit, it
    // cannot be chosen, and is fitted and measured only when `alternatives` is read
    const depth = () => {
      const p = chebyshevInterpolant(f, interval, plain[found!]!, { parity: act.parity });
      let n = p.coefficients.length;
      while (n > 1 && p.coefficients[n - 1] === 0) n--;
      return polynomialCost({ interval: p.interval, coefficients: Array.from(p.coefficients).slice(0, n) }).depth;
    };
    slots.push(found === null ? { now: { method: 'chebyshev', fit: null } } : { depth, later: verified });
  }
  if (methods.includes('remez')) {
    const cands = weight ? candidateDegrees(act, interval, maxDegree, true) : plain;
    const bounds = remezBounds(cache, `${spec}|${a},${b}|${weightKey(weight)}`);
    const remezKey = (degree: number) => keyOf('remez', degree);
    /** A measured fit at a degree that meets the target. */
    const passingFit = (degree: number) => {
      if (!remezFitted.has(degree)) return undefined;
      for (const key of [remezKey(degree), `${remezKey(degree)}|full`]) {
        const fit = cache.get(key);
        if (fit && fit.maxError <= target) return fit;
      }
      return undefined;
    };
    /** A lower bound proves a degree out of reach only above this (rounding of levelled errors). */
    const outOfReach = target * (1 + LEVELLED_MARGIN);
    /** Degrees whose fits were measured above the target in this search (the probes' estimates were wrong). */
    const rejected = new Set<number>();
    const failing = (lower: number) => Math.max(lower, target * (1 + 1e-12));
    // Weighted: the levelled error is of the weighted problem, no bound on the plain error, so no early stop and
    // no lower bounds; every probe is a full fit, measured (the final fit then reuses it).
    const probe = (i: number): Probe => {
      const degree = cands[i]!;
      const cached = passingFit(degree);
      if (cached) {
        onProgress?.({ method: 'remez', degree, maxError: cached.maxError, target });
        return { pass: true, error: cached.maxError };
      }
      const lower = bounds.lower.get(degree) ?? 0;
      if (rejected.has(degree)) return { pass: false, error: failing(lower) };
      if (weight) {
        const fit = fitCached('remez', `${remezKey(degree)}|full`, degree, () =>
          fitApproximation(act, { interval, method: 'remez', degree, weight }),
        );
        return { pass: fit.maxError <= target, error: fit.maxError };
      }
      if (lower > outOfReach) return { pass: false, error: lower };
      const solved = bounds.solverError.get(degree);
      if (solved !== undefined && solved <= target * (1 + 1e-6)) return { pass: true, error: Math.min(solved, target) };
      const options = {
        intervals: [interval],
        degree,
        parity: act.parity,
        decideAgainst: target,
        decideGap: PROBE_GAP,
        samples: probes.samples,
      };
      const start = nearestReference(bounds, degree);
      let r = fitMinimax(f, { ...options, initialReference: start });
      // a warm start that left the target undecided (a poor start can stall the exchange): again from the default
      if (start && !r.converged && r.stopReason !== 'decided') r = fitMinimax(f, options);
      bounds.lower.set(degree, Math.max(lower, r.lowerBound));
      bounds.solverError.set(degree, Math.min(solved ?? Infinity, r.maxWeightedError));
      const gap = r.maxWeightedError > 0 ? (r.maxWeightedError - r.levelledError) / r.maxWeightedError : 0;
      const known = bounds.references.get(degree);
      if (r.reference.length > 0 && (!known || gap <= known.gap)) bounds.references.set(degree, { x: r.reference.map((e) => e.x), gap });
      onProgress?.({ method: 'remez', degree, maxError: r.maxWeightedError, target });
      // proven out of reach; or the solver's own extremum search puts the error above / within the target (the
      // degree found is measured before it is returned)
      if (r.lowerBound > outOfReach) return { pass: false, error: r.lowerBound };
      // (within 1e-6 over counts: the target can sit exactly on the minimax error, and the measurement decides)
      const pass = r.maxWeightedError <= target * (1 + 1e-6);
      return pass ? { pass, error: Math.min(r.maxWeightedError, target) } : { pass, error: failing(r.lowerBound) };
    };
    // unweighted: lower bounds and solver errors from earlier probes; Chebyshev probes bound the minimax error
    // (Lebesgue constant below, the interpolant above)
    const known = (i: number): number | undefined => {
      const d = cands[i]!;
      const own = passingFit(d);
      if (own) return own.maxError;
      if (weight) return undefined;
      const lower = bounds.lower.get(d) ?? 0;
      if (rejected.has(d)) return failing(lower);
      if (lower > outOfReach) return lower;
      const solved = bounds.solverError.get(d);
      if (solved !== undefined && solved <= target * (1 + 1e-6)) return Math.min(solved, target);
      const c = cachedError('chebyshev', d) ?? probes.chebyshev.get(d);
      if (c === undefined) return undefined;
      const lowerCheb = c / (2 + (2 / Math.PI) * Math.log(d + 1));
      if (lowerCheb > outOfReach) return lowerCheb;
      if (c <= target && cachedError('chebyshev', d) !== undefined) return c;
      return undefined;
    };
    let r: FittedApproximation | null = null;
    for (;;) {
      // errors within 5% of the minimax error: measured fits, probes whose lower bound and own error are that close
      const reliable = (i: number) => {
        const d = cands[i]!;
        if (passingFit(d)) return true;
        const lower = bounds.lower.get(d);
        const solved = bounds.solverError.get(d);
        return lower !== undefined && solved !== undefined && solved <= 1.05 * lower;
      };
      const hi = searchDegree(probe, cands, target, known, weight ? undefined : reliable);
      if (hi === null) break;
      const degree = cands[hi]!;
      // the minimax polynomial of the chosen degree, from the default start (independent of the probes), measured
      r = fitCached('remez', `${remezKey(degree)}|full`, degree, () =>
        fitApproximation(act, { interval, method: 'remez', degree, weight, ...(weight ? {} : { samples: probes.samples }) }),
      );
      if (r.maxError <= target) break;
      // measured above the target: a probe's polynomial that meets it, if there is one; else search again above
      if (!weight) {
        const p = fitMinimax(f, {
          intervals: [interval],
          degree,
          parity: act.parity,
          decideAgainst: target,
          initialReference: r.solver?.reference,
        });
        const fit = minimaxFit(act, interval, p);
        if (fit.maxError <= target) {
          store('remez', remezKey(degree), degree, fit);
          r = fit;
          break;
        }
      }
      rejected.add(degree);
    }
    remez = r && r.maxError <= target ? r : null;
    slots.push({ now: { method: 'remez', fit: r } });
  }
  if (methods.includes('composite')) {
    let note: string | undefined;
    if (act.name !== 'relu' && act.name !== 'abs') note = `composite supports relu and abs, not ${act.name}`;
    else if (weight) note = 'composite fits are unweighted';
    else if (Math.abs(a + b) > 1e-12 * b) note = `composite needs a symmetric range [-B, B]`;
    if (note) slots.push({ now: { method: 'composite', fit: null, note } });
    else {
      const entry = compositeTableEntry(act, interval, target);
      const later = (): Alternative => ({ method: 'composite', fit: compositeForPrecision(act, interval, target, cache) });
      // the table's stage degrees give the depth (odd sign stages, then the finish); a search beyond the table
      // (if the entry misses) finds no shallower composite, as the table holds the shallowest
      slots.push(entry ? { depth: () => compositeDepth(entry.degrees), later } : { now: later() });
    }
  }
  // Alternatives strictly deeper than the minimax fit cannot be chosen (depth is the first cost key): they are
  // fitted and measured when `alternatives` is first read, not now.
  const settled = slots.map((slot) => ('now' in slot ? slot : remez && slot.depth() > remez.cost.depth ? slot : { now: slot.later() }));
  let best: FittedApproximation | null = null;
  for (const slot of settled) {
    const fit = 'now' in slot ? slot.now.fit : null;
    if (fit && fit.maxError <= target && (!best || cheaper(fit, best))) best = fit;
  }
  if (!best) {
    const alternatives = settled.map((slot) => ('now' in slot ? slot.now : slot.later()));
    const reached = alternatives
      .filter((x) => x.fit)
      .map((x) => `${x.method} ${x.fit!.maxError.toExponential(2)}`)
      .join(', ');
    throw new FitError(
      `precision: no ${methods.join('/')} fit of ${spec} reaches 2^-${k} = ${target} on [${a}, ${b}] with degree ≤ ${maxDegree}` +
        (reached ? '' : ' (no method applies)'),
    );
  }
  let alternatives: Alternative[] | null = null;
  const result = { ...best, k, target } as PrecisionFit;
  Object.defineProperty(result, 'alternatives', {
    get: () => (alternatives ??= settled.map((slot) => ('now' in slot ? slot.now : slot.later()))),
    enumerable: false,
  });
  return result;
}

/**
 * Composite relu/|x| on [−B, B] meeting `target`: the ReLU table entry (or a search) for the error target on
 * [−1, 1], i.e. target/B (|x|: half of that), rebuilt and measured; falls back to the search if the measured
 * error misses the target.
 */
/** The ReLU error target on [−1, 1] of a composite relu/|x| on [−B, B] meeting `target`. */
function reluTargetOf(act: Activation, interval: readonly [number, number], target: number): number {
  return (compositeFinish(act) === 'relu' ? target : target / 2) / interval[1];
}

/** The {@link RELU_COMPOSITES} entry for a composite relu/|x| target, if the table has one. */
function compositeTableEntry(act: Activation, interval: readonly [number, number], target: number) {
  const reluTarget = reluTargetOf(act, interval, target);
  const kRelu = Math.ceil(-Math.log2(reluTarget) - 1e-12);
  return 2 ** -kRelu <= reluTarget ? RELU_COMPOSITES[kRelu] : undefined;
}

/** Depth of a composite of odd sign stages of these degrees plus its finish (one multiplication). */
function compositeDepth(degrees: readonly number[]): number {
  let depth = 1;
  for (const d of degrees) {
    const c = Array.from({ length: d + 1 }, (_, j) => (j % 2 === 1 ? 1 : 0));
    depth += polynomialCost({ interval: [-1, 1], coefficients: c }).depth;
  }
  return depth;
}

function compositeForPrecision(
  act: Activation,
  interval: readonly [number, number],
  target: number,
  cache: FitCache,
): FittedApproximation | null {
  const B = interval[1];
  const reluTarget = reluTargetOf(act, interval, target);
  const key = `${act.toString()}|${interval[0]},${B}|composite|${reluTarget}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const entry = compositeTableEntry(act, interval, target);
  let fit: FittedApproximation | null = null;
  if (entry) {
    fit = compositeFromSign(act, interval, fitCompositeSign({ degrees: entry.degrees, epsilon: entry.epsilon }));
    if (fit.maxError > target) fit = null;
  }
  if (!fit) {
    const found = searchSignFinish('relu', reluTarget);
    if (found) {
      fit = compositeFromSign(act, interval, found.sign);
      if (fit.maxError > target) fit = null;
    }
  }
  if (fit) cache.set(key, fit);
  return fit;
}
