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
 * on the degree, not on the probes. Lower bounds, references and sampled values are kept in the fit cache with
 * the fits (fit-cache.ts), so a sweep over k reuses them.
 *
 * fitForPrecision reads as its steps: searchChebyshev, searchRemez, searchComposite (each over searchDegree), then
 * settleChoosable (what could be chosen is settled now, the rest when `alternatives` is read) and chooseCheapest.
 */
import { FitError } from '../errors.js';
import type { Activation } from './activations.js';
import { approximationCost, compareCost } from './cost.js';
import { PRECISION_BITS_RANGE, isPrecisionBits } from './precision.js';
import { fitCompositeSign, searchSignFinish } from './composite.js';
import {
  compositeFinish,
  compositeFromSign,
  fitApproximation,
  gapDomain,
  FIT_METHODS,
  minimaxFit,
  type AsymmetricWeight,
  type FitMethod,
  type FittedApproximation,
} from './fitted.js';
import { chebyshevInterpolant, parityApplies } from './chebyshev.js';
import { sampledMaxError } from './max-error.js';
import { createFitCache, probeRecords, remezBounds, type FitCache, type ProbeRecords, type RemezBounds } from './fit-cache.js';
import { fitMinimax, LEVELLED_MARGIN, type MinimaxResult } from './remez.js';

export { createFitCache, type FitCache } from './fit-cache.js';

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

/** Options of {@link fitForPrecision}: the interval, the target 2^-k, the methods to try, the shared cache. */
export interface PrecisionOptions {
  /** Input range [a, b]. */
  interval: readonly [number, number];
  /** Target precision: measured max error ≤ 2^-k, k in 1..40. */
  k: number;
  /** Methods to try; composite only where supported (relu, abs). @default ['chebyshev', 'remez', 'composite'] */
  methods?: readonly FitMethod[];
  /** Remez only: asymmetric weight (the target then applies to the unweighted error). @default undefined */
  weight?: AsymmetricWeight;
  /** Remez only: fit and measure on [a, −gap] ∪ [gap, b] (a sign or step; see FitRequest.gap). @default none */
  gap?: number;
  /** Largest degree tried. @default 1024 */
  maxDegree?: number;
  /**
   * Composite only: the deepest one sign stage may be (degree ≤ 2^depth − 1), so every stage fits a short segment
   * between refresh rounds (docs/refresh.md). More, shallower stages. @default the shallowest composite overall
   */
  compositeStageDepth?: number;
  /** Reuse fits and probe records across calls (e.g. a catalog sweep over k): see {@link createFitCache}. @default a fresh cache */
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
      if (hint.symmetry === 'even' && d % 2 === 1) continue;
      if (hint.symmetry === 'odd' && d % 2 === 0) continue;
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

/** The cheapest fit of `act` on `interval` whose measured max error is ≤ 2^-k (see the module comment). */
export function fitForPrecision(act: Activation, options: PrecisionOptions): PrecisionFit {
  const ctx = searchContext(act, options);
  if (options.gap !== undefined) return searchGapped(ctx, options.gap);
  const slots: Slot[] = [];
  /** The minimax fit meeting the target, if any. */
  let remez: FittedApproximation | null = null;
  if (ctx.methods.includes('chebyshev')) slots.push(searchChebyshev(ctx));
  if (ctx.methods.includes('remez')) {
    const found = searchRemez(ctx);
    remez = found.fit && found.fit.maxError <= ctx.target ? found.fit : null;
    slots.push({ now: found });
  }
  if (ctx.methods.includes('composite')) slots.push(searchComposite(ctx));
  const settled = settleChoosable(slots, remez);
  const best = chooseCheapest(settled, ctx.target);
  if (!best) throw unreachable(ctx, settled);
  return precisionFit(best, ctx, settled);
}

/**
 * A search on [a, −gap] ∪ [gap, b]: Remez only (a Chebyshev interpolant on [a, b] runs through the jump, and the
 * composites are for relu and |x|), each probe a full fit measured on the two pieces (the fit cache and the
 * Chebyshev bracket hold for a whole interval, so neither is used).
 */
function searchGapped(ctx: SearchContext, gap: number): PrecisionFit {
  const [a, b] = ctx.interval;
  const where = `[${a}, ${-gap}] ∪ [${gap}, ${b}]`;
  if (!ctx.methods.includes('remez') || ctx.weight) {
    throw new FitError(`precision: a fit on ${where} (with a gap) is an unweighted remez fit; got ${ctx.methods.join('/')}`);
  }
  gapDomain(ctx.interval, gap);
  const fits = new Map<number, FittedApproximation>();
  const fitAt = (d: number): FittedApproximation => {
    let fit = fits.get(d);
    if (!fit) fits.set(d, (fit = fitApproximation(ctx.act, { interval: ctx.interval, method: 'remez', degree: d, gap })));
    ctx.onProgress?.({ method: 'remez', degree: d, maxError: fit.maxError, target: ctx.target });
    return fit;
  };
  const probe = (i: number): Probe => {
    const e = fitAt(ctx.plain[i]!).maxError;
    return { pass: e <= ctx.target, error: e };
  };
  const hi = searchDegree(probe, ctx.plain, ctx.target, () => undefined);
  if (hi === null) {
    throw new FitError(
      `precision: no remez fit of ${ctx.spec} reaches 2^-${ctx.k} = ${ctx.target} on ${where} with degree ≤ ${ctx.maxDegree} (a larger gap needs a lower degree)`,
    );
  }
  const best = fitAt(ctx.plain[hi]!);
  return precisionFit(best, ctx, [{ now: { method: 'remez', fit: best } }]);
}

/** One precision search: the request, checked, and the cache it reads and fills. */
interface SearchContext {
  readonly act: Activation;
  readonly f: (x: number) => number;
  /** The activation's spec string (cache keys, messages). */
  readonly spec: string;
  readonly interval: readonly [number, number];
  readonly k: number;
  /** 2^-k. */
  readonly target: number;
  readonly methods: readonly FitMethod[];
  readonly weight: AsymmetricWeight | undefined;
  readonly maxDegree: number;
  /** Candidate degrees of an unweighted fit. */
  readonly plain: readonly number[];
  readonly cache: FitCache;
  /** The cache's probe records of (activation, interval). */
  readonly probes: ProbeRecords;
  /** Degrees with a fit in the cache, per method (the weight's, for Remez). */
  readonly fitted: { readonly chebyshev: Set<number>; readonly remez: Set<number> };
  readonly onProgress: ((p: SearchProgress) => void) | undefined;
  readonly compositeStageDepth: number | undefined;
}

function searchContext(act: Activation, options: PrecisionOptions): SearchContext {
  const { interval, k, methods = FIT_METHODS, weight, maxDegree = 1024, onProgress, compositeStageDepth } = options;
  if (
    compositeStageDepth !== undefined &&
    !(Number.isInteger(compositeStageDepth) && compositeStageDepth >= 2 && compositeStageDepth <= 10)
  ) {
    throw new FitError(`precision: compositeStageDepth must be an integer in 2..10, got ${compositeStageDepth}`);
  }
  const cache = options.cache ?? createFitCache();
  const { min, max } = PRECISION_BITS_RANGE;
  if (!isPrecisionBits(k)) throw new FitError(`precision: k must be an integer in ${min}..${max}, got ${k}`);
  if (!Number.isInteger(maxDegree) || maxDegree < 1 || maxDegree > 1024) {
    throw new FitError(`precision: maxDegree must be an integer in 1..1024, got ${maxDegree}`);
  }
  for (const m of methods) if (!FIT_METHODS.includes(m)) throw new FitError(`unknown method '${m}'; valid: ${FIT_METHODS.join(', ')}`);
  const [a, b] = interval;
  if (!Number.isFinite(a) || !Number.isFinite(b)) throw new FitError(`precision: interval [${a}, ${b}] is not finite`);
  if (!(a < b)) throw new FitError(`precision: interval [${a}, ${b}] is empty or inverted (need a < b)`);
  const spec = act.toString();
  const plain = candidateDegrees(act, interval, maxDegree, false);
  const probes = probeRecords(cache, `${spec}|${a},${b}`);
  const fittedSet = (key: string) => {
    let set = probes.fitted.get(key);
    if (!set) probes.fitted.set(key, (set = new Set()));
    return set;
  };
  const fitted = { chebyshev: fittedSet('chebyshev'), remez: fittedSet(`remez|${weightKey(weight)}`) };
  const f = (x: number) => act.f(x);
  const target = 2 ** -(k as number);
  return { act, f, spec, interval, k, target, methods, weight, maxDegree, plain, cache, probes, fitted, onProgress, compositeStageDepth };
}

type CachedMethod = 'chebyshev' | 'remez';

/** The cache key of a fit of a method at a degree (Remez: with the search's weight). */
function fitKey(ctx: SearchContext, method: CachedMethod, degree: number): string {
  const [a, b] = ctx.interval;
  return `${ctx.spec}|${a},${b}|${method}|${degree}|${method === 'remez' ? weightKey(ctx.weight) : ''}`;
}

/** Store a fit of a method at a degree in the cache. */
function storeFit(ctx: SearchContext, method: CachedMethod, key: string, degree: number, fit: FittedApproximation): void {
  ctx.cache.fits.set(key, fit);
  ctx.fitted[method].add(degree);
}

/** The measured error of the cached fit of a method at a degree, if there is one. */
function cachedError(ctx: SearchContext, method: CachedMethod, degree: number): number | undefined {
  return ctx.fitted[method].has(degree) ? ctx.cache.fits.get(fitKey(ctx, method, degree))?.maxError : undefined;
}

/** A cached fit, or fit now (and cache) by the request. */
function fitCached(
  ctx: SearchContext,
  method: CachedMethod,
  key: string,
  degree: number,
  request: () => FittedApproximation,
): FittedApproximation {
  let f = ctx.cache.fits.get(key);
  if (!f) {
    f = request();
    storeFit(ctx, method, key, degree, f);
  }
  ctx.onProgress?.({ method: f.method, degree, maxError: f.maxError, target: ctx.target });
  return f;
}

/** Each method's result: settled now, or (if it may not be chosen) computed when `alternatives` is read. */
type Slot = { readonly now: Alternative } | { readonly depth: () => number; readonly later: () => Alternative };

/**
 * Alternatives strictly deeper than the minimax fit cannot be chosen (depth is the first cost key): they stay
 * lazy (fitted and measured when `alternatives` is first read); every other slot is settled now.
 */
function settleChoosable(slots: readonly Slot[], remez: FittedApproximation | null): Slot[] {
  return slots.map((slot) => ('now' in slot ? slot : remez && slot.depth() > remez.cost.depth ? slot : { now: slot.later() }));
}

function cheaper(a: FittedApproximation, b: FittedApproximation): boolean {
  const c = compareCost(a.cost, b.cost);
  return c < 0 || (c === 0 && a.maxError < b.maxError);
}

/** The settled fit meeting the target at the least cost (depth, then ciphertext multiplications, then error). */
function chooseCheapest(slots: readonly Slot[], target: number): FittedApproximation | null {
  let best: FittedApproximation | null = null;
  for (const slot of slots) {
    const fit = 'now' in slot ? slot.now.fit : null;
    if (fit && fit.maxError <= target && (!best || cheaper(fit, best))) best = fit;
  }
  return best;
}

/** Every slot's result (computing the lazy ones). */
function alternativesOf(slots: readonly Slot[]): Alternative[] {
  return slots.map((slot) => ('now' in slot ? slot.now : slot.later()));
}

/**
 * Why no method reached the target: each method's reason (its note if it did not apply, else the best error it
 * measured); "no method applies" only when every method tried had a reason not to apply.
 */
function unreachable(ctx: SearchContext, slots: readonly Slot[]): FitError {
  const alternatives = alternativesOf(slots);
  const [a, b] = ctx.interval;
  const reasons = alternatives.map((x) => `${x.method}: ${x.note ?? reachedText(ctx, x.fit)}`).join('; ');
  if (alternatives.every((x) => x.note !== undefined)) {
    return new FitError(`precision: no method applies to ${ctx.spec} on [${a}, ${b}] (${reasons})`);
  }
  return new FitError(
    `precision: no ${ctx.methods.join('/')} fit of ${ctx.spec} reaches 2^-${ctx.k} = ${ctx.target} on [${a}, ${b}] with degree ≤ ${ctx.maxDegree} (${reasons})`,
  );
}

/** What a method that applied reached: its closest fit's measured error, if it kept one. */
function reachedText(ctx: SearchContext, fit: FittedApproximation | null): string {
  return fit
    ? `degree ${fit.degree} measured ${fit.maxError.toExponential(2)}, above the target`
    : `no degree ≤ ${ctx.maxDegree} reaches the target`;
}

/** The chosen fit with k and the target; `alternatives` is a non-enumerable getter computed on first read. */
function precisionFit(best: FittedApproximation, ctx: SearchContext, slots: readonly Slot[]): PrecisionFit {
  let alternatives: Alternative[] | null = null;
  const result = { ...best, k: ctx.k, target: ctx.target } as PrecisionFit;
  Object.defineProperty(result, 'alternatives', {
    get: () => (alternatives ??= alternativesOf(slots)),
    enumerable: false,
  });
  return result;
}

/** The measured error if the interpolant was measured, else its sampled estimate (a lower bound). */
function chebyshevError(ctx: SearchContext, degree: number): number | undefined {
  return cachedError(ctx, 'chebyshev', degree) ?? ctx.probes.chebyshev.get(degree);
}

/** A Chebyshev probe: the interpolant's error sampled on a dense grid (recorded for later searches). */
function chebyshevProbe(ctx: SearchContext, i: number): Probe {
  const degree = ctx.plain[i]!;
  let e = chebyshevError(ctx, degree);
  if (e === undefined) {
    e = sampledMaxError(ctx.f, chebyshevInterpolant(ctx.f, ctx.interval, degree, { parity: ctx.act.parity }));
    ctx.probes.chebyshev.set(degree, e);
  }
  ctx.onProgress?.({ method: 'chebyshev', degree, maxError: e, target: ctx.target });
  return { pass: e <= ctx.target, error: e };
}

/**
 * Chebyshev: probes decide on the sampled estimate; the degree found is measured (when it is settled), and
 * searched again if it misses. Settled lazily when the interpolant is deeper than the minimax fit.
 */
function searchChebyshev(ctx: SearchContext): Slot {
  const search = () =>
    searchDegree(
      (i) => chebyshevProbe(ctx, i),
      ctx.plain,
      ctx.target,
      (i) => chebyshevError(ctx, ctx.plain[i]!),
    );
  const found = search();
  if (found === null) return { now: { method: 'chebyshev', fit: null } };
  const verified = (): Alternative => {
    for (let hi: number | null = found; hi !== null; hi = search()) {
      const degree = ctx.plain[hi]!;
      const fit = fitCached(ctx, 'chebyshev', fitKey(ctx, 'chebyshev', degree), degree, () =>
        fitApproximation(ctx.act, { interval: ctx.interval, method: 'chebyshev', degree }),
      );
      if (fit.maxError <= ctx.target) return { method: 'chebyshev', fit };
      // measured now: chebyshevError(degree) is that figure, above the target
    }
    return { method: 'chebyshev', fit: null };
  };
  // the depth of the interpolant found (a search again can only go higher)
  return { depth: () => interpolantDepth(ctx, ctx.plain[found]!), later: verified };
}

/** Depth of the Chebyshev interpolant of a degree (trailing zero coefficients trimmed). */
function interpolantDepth(ctx: SearchContext, degree: number): number {
  const p = chebyshevInterpolant(ctx.f, ctx.interval, degree, { parity: ctx.act.parity });
  let n = p.coefficients.length;
  while (n > 1 && p.coefficients[n - 1] === 0) n--;
  const stage = { interval: p.interval, coefficients: Array.from(p.coefficients).slice(0, n) };
  return approximationCost({ activation: ctx.act.toString(), method: 'chebyshev', interval: p.interval, stages: [stage], finish: 'none' })
    .depth;
}

/** The Remez part of a search: its candidates and what probes established (in the cache, and for this target). */
interface RemezSearch {
  readonly ctx: SearchContext;
  readonly candidates: readonly number[];
  readonly bounds: RemezBounds;
  /** A lower bound proves a degree out of reach only above this (rounding of levelled errors). */
  readonly outOfReach: number;
  /** Degrees whose fits were measured above the target in this search (the probes' estimates were wrong). */
  readonly rejected: Set<number>;
}

/**
 * Remez: a degree search over probes that stop once the target is decided, then the minimax polynomial of the
 * degree found, from the default start, measured; a degree whose measurement misses is rejected and the search
 * goes on above it. Weighted: the levelled error is of the weighted problem, no bound on the plain error, so no
 * early stop and no lower bounds; every probe is a full fit, measured (the final fit then reuses it).
 */
function searchRemez(ctx: SearchContext): Alternative {
  const [a, b] = ctx.interval;
  const rs: RemezSearch = {
    ctx,
    candidates: ctx.weight ? candidateDegrees(ctx.act, ctx.interval, ctx.maxDegree, true) : ctx.plain,
    bounds: remezBounds(ctx.cache, `${ctx.spec}|${a},${b}|${weightKey(ctx.weight)}`),
    outOfReach: ctx.target * (1 + LEVELLED_MARGIN),
    rejected: new Set(),
  };
  const probe = (i: number) => remezProbe(rs, i);
  const known = (i: number) => remezKnownError(rs, i);
  const reliable = ctx.weight ? undefined : (i: number) => remezReliable(rs, i);
  let r: FittedApproximation | null = null;
  for (;;) {
    const hi = searchDegree(probe, rs.candidates, ctx.target, known, reliable);
    if (hi === null) break;
    const degree = rs.candidates[hi]!;
    r = measuredRemez(rs, degree);
    if (r.maxError <= ctx.target) break;
    rs.rejected.add(degree);
  }
  return { method: 'remez', fit: r };
}

function remezKey(rs: RemezSearch, degree: number): string {
  return fitKey(rs.ctx, 'remez', degree);
}

/** A measured fit at a degree that meets the target. */
function passingRemezFit(rs: RemezSearch, degree: number): FittedApproximation | undefined {
  if (!rs.ctx.fitted.remez.has(degree)) return undefined;
  for (const key of [remezKey(rs, degree), `${remezKey(rs, degree)}|full`]) {
    const fit = rs.ctx.cache.fits.get(key);
    if (fit && fit.maxError <= rs.ctx.target) return fit;
  }
  return undefined;
}

/** The error figure of a degree known to fail: its lower bound, at least just above the target. */
function failingError(rs: RemezSearch, lower: number): number {
  return Math.max(lower, rs.ctx.target * (1 + 1e-12));
}

/**
 * What earlier probes established for a degree without a passing fit: rejected in this search, a lower bound
 * out of reach, or a solver error within the target (within 1e-6 over counts: the target can sit exactly on the
 * minimax error, and the measurement decides). Undefined: nothing (weighted searches record no bounds).
 */
function establishedRemez(rs: RemezSearch, degree: number): Probe | undefined {
  const { target } = rs.ctx;
  const lower = rs.bounds.lower.get(degree) ?? 0;
  if (rs.rejected.has(degree)) return { pass: false, error: failingError(rs, lower) };
  if (lower > rs.outOfReach) return { pass: false, error: lower };
  const solved = rs.bounds.solverError.get(degree);
  if (solved !== undefined && solved <= target * (1 + 1e-6)) return { pass: true, error: Math.min(solved, target) };
  return undefined;
}

/** A Remez probe: a passing fit or an established figure if there is one, else a fit (see searchRemez). */
function remezProbe(rs: RemezSearch, i: number): Probe {
  const { ctx } = rs;
  const degree = rs.candidates[i]!;
  const cached = passingRemezFit(rs, degree);
  if (cached) {
    ctx.onProgress?.({ method: 'remez', degree, maxError: cached.maxError, target: ctx.target });
    return { pass: true, error: cached.maxError };
  }
  const established = establishedRemez(rs, degree);
  if (established) return established;
  if (ctx.weight) {
    const weight = ctx.weight;
    const fit = fitCached(ctx, 'remez', `${remezKey(rs, degree)}|full`, degree, () =>
      fitApproximation(ctx.act, { interval: ctx.interval, method: 'remez', degree, weight }),
    );
    return { pass: fit.maxError <= ctx.target, error: fit.maxError };
  }
  return minimaxProbe(rs, degree);
}

/**
 * An unweighted Remez probe: warm-started from the nearest reference (again from the default start if that
 * left the target undecided), stopped once decided; its lower bound, solver error and reference are recorded.
 * It fails if proven out of reach or if the solver's own extremum search puts the error above the target.
 */
function minimaxProbe(rs: RemezSearch, degree: number): Probe {
  const { ctx, bounds } = rs;
  const { target } = ctx;
  const options = {
    intervals: [ctx.interval],
    degree,
    parity: ctx.act.parity,
    decideAgainst: target,
    decideGap: PROBE_GAP,
    samples: ctx.probes.samples,
  };
  const start = nearestReference(bounds, degree);
  let r = fitMinimax(ctx.f, { ...options, initialReference: start });
  // a warm start that left the target undecided (a poor start can stall the exchange): again from the default
  if (start && !r.converged && r.stopReason !== 'decided') r = fitMinimax(ctx.f, options);
  recordProbe(bounds, degree, r);
  ctx.onProgress?.({ method: 'remez', degree, maxError: r.maxWeightedError, target });
  if (r.lowerBound > rs.outOfReach) return { pass: false, error: r.lowerBound };
  const pass = r.maxWeightedError <= target * (1 + 1e-6);
  return pass ? { pass, error: Math.min(r.maxWeightedError, target) } : { pass, error: failingError(rs, r.lowerBound) };
}

/** Record a probe's lower bound, solver error and (if more converged than the one kept) its reference. */
function recordProbe(bounds: RemezBounds, degree: number, r: MinimaxResult): void {
  bounds.lower.set(degree, Math.max(bounds.lower.get(degree) ?? 0, r.lowerBound));
  bounds.solverError.set(degree, Math.min(bounds.solverError.get(degree) ?? Infinity, r.maxWeightedError));
  const gap = r.maxWeightedError > 0 ? (r.maxWeightedError - r.levelledError) / r.maxWeightedError : 0;
  const known = bounds.references.get(degree);
  if (r.reference.length > 0 && (!known || gap <= known.gap)) bounds.references.set(degree, { x: r.reference.map((e) => e.x), gap });
}

/**
 * An error already established for candidate i, unweighted: a passing fit's, lower bounds and solver errors from
 * earlier probes, and Chebyshev probes, which bound the minimax error (Lebesgue constant below, the interpolant
 * above). Weighted: nothing. The plain error of a weighted minimax fit is not monotone in the degree (ReLU 4:1,
 * 2^-11: degree 759 meets it, 740 misses it at 2^-9.8), so a passing fit left in the cache by another target's search
 * would steer the bracket to a different answer: the study found degree 663 or 759 for the same cell depending on
 * which cells a worker had fitted before. Weighted searches take the same probes whatever the cache holds (the
 * cached fits still make them free).
 */
function remezKnownError(rs: RemezSearch, i: number): number | undefined {
  const { ctx } = rs;
  if (ctx.weight) return undefined;
  const d = rs.candidates[i]!;
  const own = passingRemezFit(rs, d);
  if (own) return own.maxError;
  const established = establishedRemez(rs, d);
  if (established) return established.error;
  const c = chebyshevError(ctx, d);
  if (c === undefined) return undefined;
  const lowerCheb = c / (2 + (2 / Math.PI) * Math.log(d + 1));
  if (lowerCheb > rs.outOfReach) return lowerCheb;
  if (c <= ctx.target && cachedError(ctx, 'chebyshev', d) !== undefined) return c;
  return undefined;
}

/** Whether candidate i's error is within 5% of the minimax error: a measured fit, or a probe whose lower bound and own error are that close. */
function remezReliable(rs: RemezSearch, i: number): boolean {
  const d = rs.candidates[i]!;
  if (passingRemezFit(rs, d)) return true;
  const lower = rs.bounds.lower.get(d);
  const solved = rs.bounds.solverError.get(d);
  return lower !== undefined && solved !== undefined && solved <= 1.05 * lower;
}

/**
 * The minimax polynomial of the degree found, from the default start (independent of the probes), measured;
 * if that misses the target, a probe's polynomial (warm-started from it) that meets it, if there is one.
 */
function measuredRemez(rs: RemezSearch, degree: number): FittedApproximation {
  const { ctx } = rs;
  const { act, interval, weight } = ctx;
  const r = fitCached(ctx, 'remez', `${remezKey(rs, degree)}|full`, degree, () =>
    fitApproximation(act, { interval, method: 'remez', degree, weight, ...(weight ? {} : { samples: ctx.probes.samples }) }),
  );
  if (r.maxError <= ctx.target || weight) return r;
  const p = fitMinimax(ctx.f, {
    intervals: [interval],
    degree,
    parity: act.parity,
    decideAgainst: ctx.target,
    initialReference: r.solver?.reference,
  });
  const fit = minimaxFit(act, interval, p);
  if (fit.maxError > ctx.target) return r;
  storeFit(ctx, 'remez', remezKey(rs, degree), degree, fit);
  return fit;
}

/**
 * Composite (relu, |x| on a symmetric range): the table entry's depth settles it lazily (deeper than the
 * minimax fit: built when `alternatives` is read); without an entry it is searched now (a search beyond the
 * table finds no shallower composite, as the table holds the shallowest).
 */
function searchComposite(ctx: SearchContext): Slot {
  const { act, interval, target, weight } = ctx;
  const [a, b] = interval;
  let note: string | undefined;
  if (act.name !== 'relu' && act.name !== 'abs') note = `composite supports relu and abs, not ${act.name}`;
  else if (weight) note = 'composite fits are unweighted';
  else if (Math.abs(a + b) > 1e-12 * b) note = `composite needs a symmetric range [-B, B]`;
  if (note) return { now: { method: 'composite', fit: null, note } };
  const stageDepth = ctx.compositeStageDepth;
  const entry = compositeTableEntry(act, interval, target, stageDepth);
  const later = (): Alternative => ({ method: 'composite', fit: compositeForPrecision(act, interval, target, ctx.cache, stageDepth) });
  // the table's stage degrees give the depth (odd sign stages, then the finish)
  return entry ? { depth: () => compositeDepth(entry.degrees), later } : { now: later() };
}

/** Outcome of one probe of a degree search: whether the degree meets the target, and an error figure for it. */
interface Probe {
  readonly pass: boolean;
  /** The measured error, or for a failing Remez probe its lower bound (for interpolating the next degree). */
  readonly error: number;
}

/** A degree search's inputs: see {@link searchDegree}. */
interface DegreeSearch {
  readonly probe: (i: number) => Probe;
  readonly candidates: readonly number[];
  readonly target: number;
  readonly reliable: (i: number) => boolean;
}

/** A degree search's state: candidate indices lo (fails; −1: none yet) and hi (meets; −1: none yet), errors seen. */
interface Bracket {
  lo: number;
  hi: number;
  readonly errAt: Map<number, number>;
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
  const search: DegreeSearch = { probe, candidates, target, reliable };
  const bracket = knownBracket(candidates, target, known);
  if (bracket.hi < 0 && !exponentialPhase(search, bracket)) return null;
  narrowBracket(search, bracket);
  return bracket.hi;
}

/** The bracket from known errors: the largest known failure, and the smallest known pass above it. */
function knownBracket(candidates: readonly number[], target: number, known: (i: number) => number | undefined): Bracket {
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
  return { lo, hi, errAt };
}

/** Probe candidate i, recording its error; whether it meets the target. */
function probeAt(search: DegreeSearch, bracket: Bracket, i: number): boolean {
  const p = search.probe(i);
  bracket.errAt.set(i, p.error);
  return p.pass;
}

/**
 * Exponential phase: from above the largest known failure (extrapolated from known failures when there are
 * two) upwards until a candidate meets the target (bracket.hi). False if the last candidate fails.
 */
function exponentialPhase(search: DegreeSearch, bracket: Bracket): boolean {
  const last = search.candidates.length - 1;
  let i = bracket.lo >= 0 ? nextAbove(search, bracket, bracket.lo) : 0;
  for (;;) {
    if (i > last) i = last;
    if (probeAt(search, bracket, i)) {
      bracket.hi = i;
      return true;
    }
    bracket.lo = i;
    if (i === last) return false;
    i = nextAbove(search, bracket, i);
  }
}

/**
 * The next candidate above failing index i: the degree doubled, or where two failing errors extrapolate
 * (log-log) to meet the target if that is less (OVERSHOOT over, to land above it); the partner of the largest
 * failing probe is the largest at ≤ 3/4 of its degree if any (neighbouring degrees differ by parity effects).
 * Only `reliable` errors (close to the true one, not a loose bound) are extrapolated when there are two.
 */
function nextAbove(search: DegreeSearch, bracket: Bracket, i: number): number {
  const { candidates, target, reliable } = search;
  let nextDegree = 2 * candidates[i]!;
  const all = [...bracket.errAt].filter(([, e]) => e > target).sort((p, q) => q[0] - p[0]);
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
  return next < 0 ? candidates.length - 1 : Math.max(next, i + 1);
}

/**
 * Bracketed phase: probe between lo and hi where log(error), linear in log(degree), crosses the target, falling
 * back to bisection when interpolation twice in a row does not halve the bracket, until lo and hi are adjacent.
 */
function narrowBracket(search: DegreeSearch, bracket: Bracket): void {
  let width = bracket.hi - bracket.lo;
  let interpolate = true;
  let slow = 0;
  while (bracket.hi - bracket.lo > 1) {
    const { lo, hi } = bracket;
    const mid = (interpolate ? interpolatedProbe(search, bracket) : undefined) ?? (lo + hi) >> 1;
    if (probeAt(search, bracket, mid)) bracket.hi = mid;
    else bracket.lo = mid;
    const w = bracket.hi - bracket.lo;
    slow = interpolate && w > width / 2 ? slow + 1 : 0;
    interpolate = slow < 2;
    if (!interpolate) slow = 0;
    width = w;
  }
}

/** Where log(error), linear in log(degree) between the bracket ends, crosses the target; undefined if not known. */
function interpolatedProbe(search: DegreeSearch, { lo, hi, errAt }: Bracket): number | undefined {
  const { candidates, target } = search;
  const eLo = errAt.get(lo);
  const eHi = errAt.get(hi);
  if (!(lo >= 0 && eLo !== undefined && eHi !== undefined && eLo > target && eHi > 0 && eHi < eLo)) return undefined;
  const dLo = Math.log(candidates[lo]!);
  const dHi = Math.log(candidates[hi]!);
  const frac = (Math.log(eLo) - Math.log(target)) / (Math.log(eLo) - Math.log(eHi));
  const dPred = Math.exp(dLo + frac * (dHi - dLo));
  let idx = candidates.findIndex((d) => d >= dPred);
  if (idx < 0) idx = hi;
  return Math.min(hi - 1, Math.max(lo + 1, idx));
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

/** The ReLU error target on [−1, 1] of a composite relu/|x| on [−B, B] meeting `target`. */
function reluTargetOf(act: Activation, interval: readonly [number, number], target: number): number {
  return (compositeFinish(act) === 'relu' ? target : target / 2) / interval[1];
}

/**
 * The {@link RELU_COMPOSITES} entry for a composite relu/|x| target, if the table has one (and its stages are no
 * deeper than `stageDepth`, when given).
 */
function compositeTableEntry(act: Activation, interval: readonly [number, number], target: number, stageDepth?: number) {
  const reluTarget = reluTargetOf(act, interval, target);
  const kRelu = Math.ceil(-Math.log2(reluTarget) - 1e-12);
  const entry = 2 ** -kRelu <= reluTarget ? RELU_COMPOSITES[kRelu] : undefined;
  if (entry && stageDepth !== undefined && entry.degrees.some((d) => d > 2 ** stageDepth - 1)) return undefined;
  return entry;
}

/** Depth of a composite of odd sign stages of these degrees plus its finish (one multiplication). */
function compositeDepth(degrees: readonly number[]): number {
  const stages = degrees.map((d) => ({
    interval: [-1, 1] as const,
    coefficients: Array.from({ length: d + 1 }, (_, j) => (j % 2 === 1 ? 1 : 0)),
  }));
  return approximationCost({ activation: 'relu', method: 'composite', interval: [-1, 1], stages, finish: 'relu' }).depth;
}

/**
 * Composite relu/|x| on [−B, B] meeting `target`: the ReLU table entry (or a search) for the error target on
 * [−1, 1], i.e. target/B (|x|: half of that), rebuilt and measured; falls back to the search if the measured
 * error misses the target.
 */
function compositeForPrecision(
  act: Activation,
  interval: readonly [number, number],
  target: number,
  cache: FitCache,
  stageDepth?: number,
): FittedApproximation | null {
  const B = interval[1];
  const reluTarget = reluTargetOf(act, interval, target);
  const key = `${act.toString()}|${interval[0]},${B}|composite|${reluTarget}${stageDepth !== undefined ? `|stages≤${stageDepth}` : ''}`;
  const hit = cache.fits.get(key);
  if (hit) return hit;
  const entry = compositeTableEntry(act, interval, target, stageDepth);
  let fit: FittedApproximation | null = null;
  if (entry) {
    fit = compositeFromSign(act, interval, fitCompositeSign({ degrees: entry.degrees, epsilon: entry.epsilon }));
    if (fit.maxError > target) fit = null;
  }
  if (!fit) {
    const found = searchSignFinish('relu', reluTarget, stageDepth !== undefined ? { maxStageDepth: stageDepth, maxStages: 8 } : {});
    if (found) {
      fit = compositeFromSign(act, interval, found.sign);
      if (fit.maxError > target) fit = null;
    }
  }
  if (fit) cache.fits.set(key, fit);
  return fit;
}
