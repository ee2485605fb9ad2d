/**
 * Composite minimax approximation of sign(x): s = p_k ∘ … ∘ p_1, each p_i the odd minimax polynomial of sign on
 * [−1, −ε_i] ∪ [ε_i, 1], with ε_{i+1} the normalised lower edge of p_i's output on [ε_i, 1]
 * (Lee, Lee, Kim, Kim, No, Kang, "Minimax approximation of sign function by composite polynomial for
 * homomorphic comparison", IEEE TDSC 2021). ReLU(x) = x·(1 + s(x))/2 and |x| = x·s(x) follow
 * (Lee et al., "High-precision bootstrapping-free ReLU/CNN…" / "Precise approximation of convolutional neural
 * networks for homomorphically encrypted data").
 *
 * Each stage after the first is stored on the interval [−R, R] where R is the measured max |p_{i−1}| on
 * [−1, 1], so its input is always inside its domain; the 1/R normalisation is part of the Chebyshev map.
 */
import { FitError } from '../errors.js';
import { lobattoGrid, pieceExtrema, type Extremum } from './extrema.js';
import { clenshaw, type ChebyshevPolynomial } from './polynomial.js';
import { chebyshevEvalCost } from './eval-plan.js';
import { fitMinimax } from './remez.js';

/**
 * Degree lists published by Lee et al. per precision α, kept for reference. Built here with the gap ε = 2^-α
 * they do NOT reach 2^-α: their degree product is below 2^α, and by Bernstein's inequality a polynomial of
 * degree n bounded by ≈1 on [−1, 1] has |p(ε)| ≤ n·ε·(1 + o(1)), so p(2^-α) cannot be near 1 (measured: sign
 * error ≈ 2^-1 at ε = 2^-α). They reach 2^-α with a larger gap, e.g. (7, 7, 13) gives 2^-11 at ε = 2^-6; as
 * ReLU composites they reappear in our own search (RELU_COMPOSITES[10] is (7, 7, 13)). `searchSignDegrees`
 * finds lists that meet 2^-α at ε = 2^-α.
 */
export const PUBLISHED_SIGN_DEGREES: Readonly<Record<number, readonly number[]>> = Object.freeze({
  10: [7, 7, 13],
  11: [7, 7, 27],
  12: [7, 15, 27],
  13: [15, 15, 27],
  14: [15, 27, 29],
});

const SIGN_PARITY = { symmetry: 'odd', poly: [] } as const;
const sign = (x: number) => (x > 0 ? 1 : x < 0 ? -1 : 0);

/** One stage of a composite sign approximation. */
export interface CompositeStage {
  readonly polynomial: ChebyshevPolynomial;
  readonly degree: number;
  /** The gap: this stage approximates sign on [−1, −ε] ∪ [ε, 1] of its normalised input. */
  readonly epsilon: number;
  /** Measured max |p − 1| on [ε, 1] (normalised input). */
  readonly error: number;
  /** Measured max |p| on [−1, 1]: the next stage's input range. */
  readonly range: number;
  readonly converged: boolean;
}

export interface CompositeSign {
  readonly stages: readonly CompositeStage[];
  /** The gap of the input: sign is approximated on [−1, −epsilon] ∪ [epsilon, 1]. */
  readonly epsilon: number;
  /** Error bound of the composite on [−1, −ε] ∪ [ε, 1]: the last stage's measured error on its range. */
  readonly signError: number;
}

export interface CompositeSignOptions {
  /** Stage degrees in order of application (odd, 3..1023), e.g. [15, 15, 27]. */
  degrees: readonly number[];
  /** The gap ε ∈ (0, 1): sign is approximated on [−1, −ε] ∪ [ε, 1]. */
  epsilon: number;
  /** Remez iteration cap per stage. @default 60 */
  maxIterations?: number;
  onProgress?: (stage: number, stages: number) => void;
}

/** Min and max of a polynomial (in t) on [l, r], by dense sampling plus Brent refinement. */
export function polynomialRange(c: ArrayLike<number>, l: number, r: number, samples: number): { min: number; max: number } {
  const xs = lobattoGrid(l, r, samples);
  const ys = xs.map((t) => clenshaw(c, t));
  let min = Infinity;
  let max = -Infinity;
  for (const y of ys) {
    min = Math.min(min, y);
    max = Math.max(max, y);
  }
  const mid = 0.5 * (min + max);
  const found: Extremum[] = [];
  const es = ys.map((y) => y - mid);
  pieceExtrema((t) => clenshaw(c, t) - mid, xs, es, found);
  for (const e of found) {
    min = Math.min(min, e.value + mid);
    max = Math.max(max, e.value + mid);
  }
  return { min, max };
}

function checkDegrees(degrees: readonly number[]): void {
  if (!Array.isArray(degrees) || degrees.length === 0 || degrees.length > 8) {
    throw new FitError(`composite: degrees must list 1..8 stage degrees, got [${String(degrees)}]`);
  }
  for (const d of degrees) {
    if (!Number.isInteger(d) || d < 3 || d > 1023 || d % 2 === 0) {
      throw new FitError(`composite: stage degree ${d} must be an odd integer in 3..1023 (sign is odd)`);
    }
  }
}

/** Build the composite sign approximation stage by stage (see the module comment). */
export function fitCompositeSign(options: CompositeSignOptions): CompositeSign {
  const { degrees, epsilon, maxIterations = 60, onProgress } = options;
  checkDegrees(degrees);
  if (!(epsilon > 0 && epsilon < 1)) throw new FitError(`composite: epsilon must be in (0, 1), got ${epsilon}`);
  const stages: CompositeStage[] = [];
  let eps = epsilon;
  let inputRange = 1;
  for (let i = 0; i < degrees.length; i++) {
    const d = degrees[i]!;
    const fit = fitMinimax(sign, {
      intervals: [
        [-1, -eps],
        [eps, 1],
      ],
      degree: d,
      parity: SIGN_PARITY,
      maxIterations,
    });
    const c = fit.polynomial.coefficients;
    const samples = Math.max(1024, 40 * (d + 1));
    const onGood = polynomialRange(c, eps, 1, samples);
    const whole = polynomialRange(c, 0, 1, samples);
    const error = Math.max(1 - onGood.min, onGood.max - 1);
    const range = Math.max(Math.abs(whole.min), Math.abs(whole.max));
    stages.push({
      polynomial: { interval: [-inputRange, inputRange], coefficients: c },
      degree: fit.degree,
      epsilon: eps,
      error,
      range,
      converged: fit.converged,
    });
    onProgress?.(i + 1, degrees.length);
    if (!(onGood.min > 0)) {
      throw new FitError(
        `composite: stage ${i + 1} (degree ${d}) does not separate signs on [${eps}, 1] (min ${onGood.min}); use larger degrees or a larger epsilon`,
      );
    }
    // next stage: input in [−range, range], positive inputs in [onGood.min, onGood.max]
    eps = (onGood.min / range) * (1 - 1e-12);
    inputRange = range;
  }
  return { stages, epsilon, signError: stages[stages.length - 1]!.error };
}

/** Depth of an odd stage of degree d on a normalised input (the plan's depth for a full odd polynomial). */
function stageDepth(d: number): number {
  return Math.ceil(Math.log2(d + 1));
}

const ODD_CT_COST = new Map<number, number>();
/** Ciphertext multiplications of a degree-d odd polynomial under the compiler's plan (all odd terms nonzero). */
function oddStageCt(d: number): number {
  let v = ODD_CT_COST.get(d);
  if (v === undefined) {
    const c = Array.from({ length: d + 1 }, (_, j) => (j % 2 === 1 ? 1 / j : 0));
    v = chebyshevEvalCost(c).ctMultiplications;
    ODD_CT_COST.set(d, v);
  }
  return v;
}

/** Nondecreasing compositions of `total` into parts in [minPart, maxPart], at most maxParts parts. */
function compositions(total: number, minPart: number, maxPart: number, maxParts: number): number[][] {
  const out: number[][] = [];
  const rec = (left: number, from: number, acc: number[]) => {
    if (left === 0) {
      out.push([...acc]);
      return;
    }
    if (acc.length === maxParts) return;
    for (let p = from; p <= Math.min(maxPart, left); p++) {
      acc.push(p);
      rec(left - p, p, acc);
      acc.pop();
    }
  };
  rec(total, minPart, []);
  return out;
}

export interface CompositeSearchOptions {
  /** Largest total depth (sum of stage depths) tried. @default 24 */
  maxDepth?: number;
  /** Largest depth of one stage (degree ≤ 2^depth − 1). @default 6 */
  maxStageDepth?: number;
  /** Most stages. @default 6 */
  maxStages?: number;
  /** Candidates whose degree product is below this cannot be steep enough (Bernstein's inequality). @default 1 */
  minDegreeProduct?: number;
  onProgress?: (message: string) => void;
}

/**
 * Smallest-depth, then fewest-multiplication degree list for which `meets` succeeds. Depths are tried in
 * increasing order; at each depth every nondecreasing list of full-depth stages (degree 2^δ − 1) is tried, and
 * among those that meet the target the cheapest is then thinned stage by stage (the smallest odd degree of the
 * same depth that still meets it, by bisection). Returns null if nothing up to maxDepth meets the target.
 */
export function searchCompositeDegrees<T>(
  meets: (degrees: readonly number[]) => T | null,
  options: CompositeSearchOptions = {},
): { degrees: number[]; result: T } | null {
  const { maxDepth = 24, maxStageDepth = 6, maxStages = 6, minDegreeProduct = 1, onProgress } = options;
  const ct = (ds: readonly number[]) => ds.reduce((s, d) => s + oddStageCt(d), 0);
  for (let depth = 2; depth <= maxDepth; depth++) {
    const candidates = compositions(depth, 2, maxStageDepth, maxStages)
      .map((parts) => parts.map((p) => 2 ** p - 1))
      .filter((ds) => ds.reduce((s, d) => s * d, 1) >= minDegreeProduct)
      .sort((a, b) => ct(a) - ct(b));
    let best: { degrees: number[]; result: T } | null = null;
    for (const ds of candidates) {
      if (best && ct(ds) >= ct(best.degrees)) break;
      onProgress?.(`depth ${depth}: trying degrees ${ds.join(',')}`);
      const r = meets(ds);
      if (r !== null) best = { degrees: [...ds], result: r };
    }
    if (!best) continue;
    // thin each stage to the smallest odd degree of the same depth that still meets the target (bisection)
    for (let i = 0; i < best.degrees.length; i++) {
      const d = best.degrees[i]!;
      const band: number[] = [];
      for (let x = 2 ** (stageDepth(d) - 1) + 1; x < d; x += 2) if (oddStageCt(x) <= oddStageCt(d)) band.push(x);
      let lo = -1; // band[lo] infeasible (or none)
      let hi = band.length; // band[hi] feasible (band.length stands for d itself)
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1;
        const trial: number[] = best.degrees.map((x, j) => (j === i ? band[mid]! : x));
        onProgress?.(`depth ${depth}: thinning to ${trial.join(',')}`);
        const r = meets(trial);
        if (r !== null) {
          hi = mid;
          best = { degrees: trial, result: r };
        } else lo = mid;
      }
    }
    return best;
  }
  return null;
}

/** Composite sign of precision α on [−1, −ε] ∪ [ε, 1], ε = 2^-α by default: degrees found by search. */
export function searchSignDegrees(
  alpha: number,
  options: CompositeSearchOptions & { epsilon?: number } = {},
): { degrees: number[]; sign: CompositeSign } | null {
  if (!Number.isFinite(alpha) || alpha < 1 || alpha > 40) throw new FitError(`composite: alpha must be in 1..40, got ${alpha}`);
  const epsilon = options.epsilon ?? 2 ** -alpha;
  const target = 2 ** -alpha;
  // Bernstein: a degree-n polynomial bounded by M on [−1, 1] has |p(ε)| ≤ n·M·asin(ε); allow M up to 1.5
  const minDegreeProduct = (1 - target) / (1.5 * Math.asin(epsilon));
  const found = searchCompositeDegrees(
    (degrees) => {
      try {
        const s = fitCompositeSign({ degrees, epsilon });
        return s.signError <= target ? s : null;
      } catch {
        return null;
      }
    },
    { minDegreeProduct, ...options },
  );
  return found ? { degrees: found.degrees, sign: found.result } : null;
}

/** Composite approximations of ReLU and |x| built on a composite sign. */
export type SignFinish = 'relu' | 'abs';

/** Evaluate the composite sign at x. */
export function evalCompositeSign(sign: CompositeSign, x: number): number {
  let v = x;
  for (const s of sign.stages) {
    const [a, b] = s.polynomial.interval;
    v = clenshaw(s.polynomial.coefficients, (2 * v - a - b) / (b - a));
  }
  return v;
}

/**
 * Upper bound of the finish error on [−1, 1] (ReLU: |x|·|s − sign|/2, |x|: |x|·|s − sign|), used to steer the
 * search: on |x| ≥ ε it is at most factor·signError; on the gap (−ε, ε) it is measured on a grid plus Brent.
 * The error is even in x (s is odd), so the gap [0, ε] suffices. The final figure is measured densely elsewhere.
 */
export function finishErrorBound(sign: CompositeSign, finish: SignFinish): number {
  const factor = finish === 'relu' ? 0.5 : 1;
  const eps = sign.epsilon;
  const gap = (x: number) => factor * x * Math.abs(1 - evalCompositeSign(sign, x));
  const product = sign.stages.reduce((p, st) => p * st.degree, 1);
  const xs = lobattoGrid(0, eps, Math.min(2 ** 16, Math.max(257, Math.ceil(40 * product * eps))));
  const es = xs.map(gap);
  const found: Extremum[] = [];
  pieceExtrema(gap, xs, es, found);
  let worst = factor * sign.signError;
  for (const e of found) worst = Math.max(worst, Math.abs(e.value));
  return worst;
}

/**
 * For fixed stage degrees, the gap ε minimising the finish error bound (golden-section search on log2 ε).
 * Returns null when no ε gives a composite that separates the signs.
 */
export function bestEpsilon(
  degrees: readonly number[],
  finish: SignFinish,
  range: readonly [number, number],
): { sign: CompositeSign; bound: number } | null {
  const build = (u: number) => {
    try {
      const sign = fitCompositeSign({ degrees, epsilon: 2 ** u });
      return { sign, bound: finishErrorBound(sign, finish) };
    } catch {
      return null;
    }
  };
  const score = (r: { bound: number } | null) => (r ? r.bound : Infinity);
  let [lo, hi] = range;
  if (!(lo < hi)) return null;
  const g = 0.3819660112501051;
  let x1 = lo + g * (hi - lo);
  let x2 = hi - g * (hi - lo);
  let r1 = build(x1);
  let r2 = build(x2);
  let best = score(r1) <= score(r2) ? r1 : r2;
  for (let it = 0; it < 14; it++) {
    if (score(r1) <= score(r2)) {
      hi = x2;
      x2 = x1;
      r2 = r1;
      x1 = lo + g * (hi - lo);
      r1 = build(x1);
      if (score(r1) < score(best)) best = r1;
    } else {
      lo = x1;
      x1 = x2;
      r1 = r2;
      x2 = hi - g * (hi - lo);
      r2 = build(x2);
      if (score(r2) < score(best)) best = r2;
    }
  }
  return best;
}

/**
 * Composite ReLU or |x| on [−1, 1] with finish error ≤ target: degrees by {@link searchCompositeDegrees}, the gap
 * ε per candidate by {@link bestEpsilon}. Returns null when nothing up to the depth limit reaches the target.
 */
export function searchSignFinish(
  finish: SignFinish,
  target: number,
  options: CompositeSearchOptions = {},
): { degrees: number[]; sign: CompositeSign; bound: number } | null {
  if (!(target > 0 && target < 1)) throw new FitError(`composite: target error must be in (0, 1), got ${target}`);
  const factor = finish === 'relu' ? 0.5 : 1;
  // on the gap s ramps from 0 to ≈1 over a width w ≈ 1/(degree product) (Bernstein), and the error there is about
  // factor·w/4, so the degree product must be at least about factor/(4·target)
  const epsMax = 0.5;
  const minDegreeProduct = factor / (8 * target);
  const found = searchCompositeDegrees(
    (degrees) => {
      const product = degrees.reduce((s, d) => s * d, 1);
      const r = bestEpsilon(degrees, finish, [-Math.log2(product) - 2, Math.log2(epsMax)]);
      return r && r.bound <= target ? r : null;
    },
    { minDegreeProduct, ...options },
  );
  return found ? { degrees: found.degrees, sign: found.result.sign, bound: found.result.bound } : null;
}
