/**
 * A fitted approximation of an activation with everything a user or the compiler needs to trust and cost it:
 * the polynomial(s), the MEASURED max error (max-error.ts), depth and multiplication counts (cost.ts).
 * `fitApproximation` makes one fit by a given method at a given degree; search.ts finds the degree.
 */
import { FitError } from '../errors.js';
import type { Activation } from './activations.js';
import { chebyshevInterpolant, checkFitArguments, parityApplies, type ChebyshevKind } from './chebyshev.js';
import { bestEpsilon, fitCompositeSign, type CompositeSign, type SignFinish } from './composite.js';
import { approximationCost, polynomialCost, type ApproximationCost } from './cost.js';
import { measureMaxError } from './max-error.js';
import type { ChebyshevPolynomial, PolynomialApproximation } from './polynomial.js';
import {
  asymmetricWeight,
  coefficientParity,
  fitMinimax,
  type MinimaxProgress,
  type MinimaxResult,
  type MinimaxStopReason,
  type SampleCache,
} from './remez.js';

/** How a polynomial was fitted: Chebyshev interpolation, Remez minimax, or a composite sign/ReLU. */
export type FitMethod = PolynomialApproximation['method'];
export const FIT_METHODS: readonly FitMethod[] = ['chebyshev', 'remez', 'composite'];

/** Weighted minimax: the error on negative inputs counts `negative` times, on non-negative ones `positive` times. */
export interface AsymmetricWeight {
  readonly negative: number;
  readonly positive: number;
}

/** One polynomial of an approximation, with its own cost. */
export interface FittedStage {
  readonly polynomial: ChebyshevPolynomial;
  readonly degree: number;
  readonly parity: 'even' | 'odd' | 'none';
  readonly cost: ApproximationCost;
  /** Composite sign stages: the gap ε of the stage's normalised input and its measured error on [ε, 1]. */
  readonly epsilon?: number;
  readonly error?: number;
}

/** A fitted polynomial stand-in with its interval, degree, parity, cost and measured max error. */
export interface FittedApproximation {
  readonly activation: Activation;
  readonly method: FitMethod;
  readonly interval: readonly [number, number];
  /** Degree in x of the evaluated polynomial (composite: product of the stage degrees, +1 for the finish). */
  readonly degree: number;
  /** Parity of the single polynomial's coefficients (composite: of the whole approximation in x). */
  readonly parity: 'even' | 'odd' | 'none';
  readonly approximation: PolynomialApproximation;
  readonly stages: readonly FittedStage[];
  /** Measured max |f − p| on the interval (dense sampling plus refined extrema). */
  readonly maxError: number;
  /** log2(maxError); the precision in bits is −log2Error. */
  readonly log2Error: number;
  /** Where the max error is attained (absent for files and scaled fits). */
  readonly maxErrorAt?: number;
  readonly cost: ApproximationCost;
  readonly weight?: AsymmetricWeight;
  /** Weighted fits: measured max error on the negative and non-negative parts of the interval. */
  readonly sideErrors?: { readonly negative: number; readonly positive: number };
  /** Remez fits: the solver's own state (its levelled error is NOT the reported error). */
  readonly solver?: {
    readonly converged: boolean;
    readonly iterations: number;
    readonly levelledError: number;
    /** Largest levelled error seen: a lower bound of the minimax error of this degree. */
    readonly lowerBound: number;
    readonly stopReason: MinimaxStopReason;
    /** The alternating reference of the returned iterate (a warm start for nearby degrees). */
    readonly reference: readonly number[];
  };
  /** Fitted and measured on [a, −gap] ∪ [gap, b] (a sign or step: the jump at 0 left out). */
  readonly gap?: number;
  /** Composite fits: the input gap ε and the sign error bound on |x| ≥ ε. */
  readonly composite?: { readonly epsilon: number; readonly signError: number; readonly degrees: readonly number[] };
}

export interface FitRequest {
  /** Input range [a, b]. */
  interval: readonly [number, number];
  /** @default 'remez' */
  method?: FitMethod;
  /** Degree 1..1024 (chebyshev, remez). */
  degree?: number;
  /** Stage degrees of a composite (odd), e.g. [15, 15, 27]. */
  degrees?: readonly number[];
  /** Composite: the sign gap ε relative to the range (sign is fitted on |x| ≥ ε·B). @default best ε by search */
  epsilon?: number;
  /** Remez only: asymmetric weight. @default undefined (unweighted) */
  weight?: AsymmetricWeight;
  /**
   * Chebyshev, Remez: leave out (−gap, gap): fit (Remez) and measure on [a, −gap] ∪ [gap, b], as a sign or step
   * needs (no polynomial is close to a jump at the jump); 0 < gap < min(−a, b). @default none
   */
  gap?: number;
  /** Chebyshev only: points of the 1st or 2nd kind. @default 2 */
  kind?: ChebyshevKind;
  /** Remez iteration cap. @default 60 */
  maxIterations?: number;
  /** Remez: stop once the fit is known to meet or miss this error (see MinimaxOptions.decideAgainst). */
  decideAgainst?: number;
  /** Remez: warm-start reference (see MinimaxOptions.initialReference). @default undefined */
  initialReference?: readonly number[];
  /** Remez: f's values on sampling grids shared with other fits of it (see MinimaxOptions.samples). @default undefined */
  samples?: SampleCache;
  onProgress?: (p: MinimaxProgress) => void;
}

/** log2 of a measured error, finite even for an exact fit. */
export function log2Error(maxError: number): number {
  return Math.log2(Math.max(maxError, Number.MIN_VALUE));
}

/** The finish a composite needs for this activation, or a FitError naming what composite supports. */
export function compositeFinish(act: Activation): SignFinish {
  if (act.name === 'relu') return 'relu';
  if (act.name === 'abs') return 'abs';
  throw new FitError(`composite: supported for relu and abs (built on a composite sign), not '${act.toString()}'`);
}

function stageOf(p: ChebyshevPolynomial, extra: { epsilon?: number; error?: number } = {}): FittedStage {
  return {
    polynomial: p,
    degree: Math.max(0, p.coefficients.length - 1),
    parity: coefficientParity(p.coefficients),
    cost: polynomialCost(p),
    ...extra,
  };
}

/** Assemble a fitted approximation and measure its error. */
export function finishFit(
  act: Activation,
  method: FitMethod,
  interval: readonly [number, number],
  stages: readonly FittedStage[],
  finish: PolynomialApproximation['finish'],
  extra: Pick<FittedApproximation, 'weight' | 'solver' | 'composite' | 'gap'> = {},
): FittedApproximation {
  const approximation: PolynomialApproximation = {
    activation: act.toString(),
    method,
    interval: [interval[0], interval[1]],
    stages: stages.map((s) => s.polynomial),
    finish,
  };
  const f = (x: number) => act.f(x);
  const measured = measureMaxError(f, approximation, extra.gap ? { intervals: gapDomain(interval, extra.gap) } : {});
  let degree = stages.reduce((d, s) => d * s.degree, 1);
  if (finish !== 'none') degree += 1;
  const parity = finish === 'none' ? (stages.length === 1 ? stages[0]!.parity : 'odd') : finish === 'abs' ? 'even' : 'none';
  let sideErrors: FittedApproximation['sideErrors'];
  if (extra.weight && !extra.gap && interval[0] < 0 && interval[1] > 0) {
    sideErrors = {
      negative: measureMaxError(f, approximation, { intervals: [[interval[0], 0]] }).maxError,
      positive: measureMaxError(f, approximation, { intervals: [[0, interval[1]]] }).maxError,
    };
  }
  return {
    activation: act,
    method,
    interval: approximation.interval,
    degree,
    parity,
    approximation,
    stages,
    maxError: measured.maxError,
    log2Error: log2Error(measured.maxError),
    maxErrorAt: measured.at.x,
    cost: approximationCost(approximation),
    ...extra,
    ...(sideErrors ? { sideErrors } : {}),
  };
}

/**
 * The two pieces [a, −gap] ∪ [gap, b] of a fit with a gap; throws FitError unless 0 < gap < min(−a, b) (the gap
 * must leave a piece on each side of 0).
 */
export function gapDomain(interval: readonly [number, number], gap: number): [readonly [number, number], readonly [number, number]] {
  const [a, b] = interval;
  if (!(Number.isFinite(gap) && gap > 0 && gap < -a && gap < b)) {
    throw new FitError(`gap ε must satisfy 0 < ε < ${Math.min(-a, b)} (leave a piece of [${a}, ${b}] on each side of 0), got ${gap}`);
  }
  return [
    [a, -gap],
    [gap, b],
  ];
}

function checkWeight(w: AsymmetricWeight | undefined, method: FitMethod): void {
  if (w === undefined) return;
  if (method !== 'remez') throw new FitError(`${method}: a weight applies to remez fits only`);
  asymmetricWeight(w.negative, w.positive); // validates
}

/** Build the composite approximation of relu/|x| on [−B, B] from a composite sign fitted on [−1, 1]. */
export function compositeFromSign(act: Activation, interval: readonly [number, number], sign: CompositeSign): FittedApproximation {
  const finish = compositeFinish(act);
  const B = interval[1];
  const stages = sign.stages.map((s, i) =>
    stageOf(i === 0 ? { interval: [-B, B], coefficients: s.polynomial.coefficients } : s.polynomial, {
      epsilon: s.epsilon,
      error: s.error,
    }),
  );
  return finishFit(act, 'composite', interval, stages, finish, {
    composite: { epsilon: sign.epsilon, signError: sign.signError, degrees: sign.stages.map((s) => s.degree) },
  });
}

/** One fit of `act` by the requested method at the requested degree(s), with measured error and cost. */
export function fitApproximation(act: Activation, request: FitRequest): FittedApproximation {
  const { interval, method = 'remez', weight, gap, kind, maxIterations, decideAgainst, initialReference, samples, onProgress } = request;
  checkWeight(weight, method);
  if (gap !== undefined && (method === 'composite' || weight)) {
    throw new FitError(`${weight ? 'a weighted fit' : 'composite'}: a gap applies to unweighted chebyshev and remez fits only`);
  }
  const domain = gap === undefined ? [interval] : gapDomain(interval, gap);
  if (method === 'composite') {
    const finish = compositeFinish(act);
    const [a, b] = interval;
    if (!Number.isFinite(a) || !Number.isFinite(b) || !(a < b)) {
      throw new FitError(`composite: interval [${a}, ${b}] must be finite with a < b`);
    }
    if (Math.abs(a + b) > 1e-12 * b) throw new FitError(`composite: interval [${a}, ${b}] must be symmetric [-B, B]`);
    const degrees = request.degrees;
    if (!degrees) throw new FitError(`composite: give the stage degrees (e.g. 15,15,27) or use a precision target`);
    let sign: CompositeSign;
    if (request.epsilon !== undefined) sign = fitCompositeSign({ degrees, epsilon: request.epsilon });
    else {
      const product = degrees.reduce((s, d) => s * d, 1);
      const best = bestEpsilon(degrees, finish, [-Math.log2(product) - 2, -1]);
      if (!best) throw new FitError(`composite: degrees ${degrees.join(',')} do not separate signs for any gap ε`);
      sign = best.sign;
    }
    return compositeFromSign(act, interval, sign);
  }
  const degree = request.degree;
  if (degree === undefined) throw new FitError(`${method}: give a degree (1..1024) or a precision target`);
  checkFitArguments(method, interval, degree);
  const f = (x: number) => act.f(x);
  if (method === 'chebyshev') {
    const p = chebyshevInterpolant(f, interval, degree, { kind, parity: act.parity });
    const trimmed = Array.from(p.coefficients);
    while (trimmed.length > 1 && trimmed[trimmed.length - 1] === 0) trimmed.pop();
    return finishFit(act, method, interval, [stageOf({ interval: p.interval, coefficients: trimmed })], 'none', gap ? { gap } : {});
  }
  if (method !== 'remez') throw new FitError(`unknown method '${String(method)}'; valid: ${FIT_METHODS.join(', ')}`);
  const r = fitMinimax(f, {
    intervals: domain,
    degree,
    parity: act.parity,
    weight: weight ? asymmetricWeight(weight.negative, weight.positive) : undefined,
    maxIterations,
    decideAgainst,
    initialReference,
    samples,
    onProgress,
  });
  return minimaxFit(act, interval, r, weight, gap);
}

/** The fitted approximation (measured error, cost) of a Remez result on `interval`. */
export function minimaxFit(
  act: Activation,
  interval: readonly [number, number],
  r: MinimaxResult,
  weight?: AsymmetricWeight,
  gap?: number,
): FittedApproximation {
  return finishFit(act, 'remez', interval, [stageOf(r.polynomial)], 'none', {
    ...(weight ? { weight: { negative: weight.negative, positive: weight.positive } } : {}),
    ...(gap ? { gap } : {}),
    solver: {
      converged: r.converged,
      iterations: r.iterations,
      levelledError: r.levelledError,
      lowerBound: r.lowerBound,
      stopReason: r.stopReason,
      reference: r.reference.map((e) => e.x),
    },
  });
}

/**
 * A fit of a positively homogeneous activation (f(λx) = λ^h·f(x), λ > 0; ReLU, |x|: h = 1) carried from its
 * interval [a, b] to [λa, λb]: coefficients × λ^h on the scaled interval (composite: the first stage's interval
 * scaled; the relu/abs finish multiplies by x, which carries λ). The error scales exactly by λ^h (up to rounding),
 * so maxError is scaled, not re-measured.
 */
export function scaleApproximation(fit: FittedApproximation, lambda: number): FittedApproximation {
  const h = fit.activation.homogeneity;
  if (h === null) {
    throw new FitError(`scale: ${fit.activation.toString()} is not positively homogeneous; fit it on the target range instead`);
  }
  if (!(lambda > 0) || !Number.isFinite(lambda)) throw new FitError(`scale: factor must be finite and > 0, got ${lambda}`);
  const finish = fit.approximation.finish;
  if (finish !== 'none' && h !== 1) throw new FitError(`scale: a ${finish} finish carries degree 1, not ${h}`);
  const factor = lambda ** h;
  const interval: [number, number] = [fit.interval[0] * lambda, fit.interval[1] * lambda];
  const last = fit.stages.length - 1;
  const stages = fit.stages.map((s, i) => {
    const [a, b] = s.polynomial.interval;
    const polyInterval: [number, number] = i === 0 ? [a * lambda, b * lambda] : [a, b];
    const coefficients =
      finish === 'none' && i === last ? Array.from(s.polynomial.coefficients, (c) => c * factor) : Array.from(s.polynomial.coefficients);
    return { ...s, polynomial: { interval: polyInterval, coefficients } };
  });
  const maxError = fit.maxError * factor;
  const approximation: PolynomialApproximation = { ...fit.approximation, interval, stages: stages.map((s) => s.polynomial) };
  const { maxErrorAt, sideErrors, ...rest } = fit;
  return {
    ...rest,
    interval,
    approximation,
    stages,
    maxError,
    log2Error: log2Error(maxError),
    ...(maxErrorAt !== undefined ? { maxErrorAt: maxErrorAt * lambda } : {}),
    ...(fit.gap !== undefined ? { gap: fit.gap * lambda } : {}),
    ...(sideErrors ? { sideErrors: { negative: sideErrors.negative * factor, positive: sideErrors.positive * factor } } : {}),
  };
}

/** A polynomial part as text, e.g. [0, 0.5] → "0.5·x", [0.5] → "0.5". */
function polynomialText(poly: readonly number[]): string {
  const terms = poly.flatMap((c, i) => (c === 0 ? [] : [i === 0 ? `${c}` : `${c}·x${i > 1 ? `^${i}` : ''}`]));
  return terms.length ? terms.join(' + ') : '0';
}

/**
 * Why a single-polynomial fit asked for degree `asked` came out with a lower degree (its top coefficients are
 * zero and are trimmed), or undefined when it did not. By symmetry when the activation's parity hint applies
 * (f minus its polynomial part is even or odd on a symmetric range: the coefficients of the other parity vanish).
 */
export function degreeShortfall(fit: FittedApproximation, asked: number): string | undefined {
  if (fit.method === 'composite' || fit.degree >= asked) return undefined;
  const hint = fit.activation.parity;
  const name = fit.activation.toString();
  const [a, b] = fit.interval;
  if (hint && parityApplies(hint, fit.interval, asked)) {
    const part = hint.poly.some((c) => c !== 0) ? `${name}(x) − (${polynomialText(hint.poly)})` : `${name}(x)`;
    const other = hint.symmetry === 'even' ? 'odd' : 'even';
    return (
      `asked for degree ${asked}, got ${fit.degree}: ${part} is ${hint.symmetry} on the symmetric range [${a}, ${b}], ` +
      `so its ${other} coefficients are zero and degree ${asked} adds nothing over ${fit.degree}`
    );
  }
  return `asked for degree ${asked}, got ${fit.degree}: the coefficients above degree ${fit.degree} came out zero`;
}
