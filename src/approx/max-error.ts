/**
 * The measured maximum error of an approximation: every figure pann reports comes from here, never from a
 * solver's own estimate. Dense Chebyshev–Lobatto sampling of each piece (the domain split at kinks, at least
 * 20 samples per degree of the composed polynomial), then every sampled local maximum of |f − p| near the top
 * is refined by Brent's method; interval ends and kinks are candidates as they are.
 */
import { FitError } from '../errors.js';
import { lobattoGrid, nudge, pieceExtrema, type Extremum } from './extrema.js';
import { evalApproximation, type PolynomialApproximation } from './polynomial.js';
import { normaliseIntervals, type Interval } from './remez.js';

export interface MaxErrorOptions {
  /** Where to measure: a union of intervals. @default [approximation.interval] */
  intervals?: readonly Interval[];
  /** Kinks of f (the search splits there and takes one-sided values). @default [0] */
  breakpoints?: readonly number[];
  /**
   * Samples per piece. @default max(2048, 20·(D+1)) where D is the degree of the composed polynomial
   * (product of the stage degrees, +1 for a relu/abs finish), capped at 2^19
   */
  samplesPerPiece?: number;
  /** Measure max |w(x)·(f − p)| instead (for weighted fits). @default undefined (w = 1) */
  weight?: (x: number) => number;
}

export interface MeasuredError {
  /** max |f − p| (or |w·(f − p)|) over the intervals. */
  readonly maxError: number;
  /** Where it is attained, and the signed error f − p there. */
  readonly at: Extremum;
  readonly samples: number;
}

/** Degree in x of the composed polynomial an approximation evaluates. */
export function composedDegree(approx: PolynomialApproximation): number {
  let d = 1;
  for (const s of approx.stages) d *= Math.max(0, s.coefficients.length - 1);
  return approx.finish === 'none' ? d : d + 1;
}

/** Largest |e(x)| on a union of intervals by dense sampling plus Brent refinement (see the module comment). */
export function measureErrorCurve(
  e: (x: number) => number,
  intervals: readonly Interval[],
  samplesPerPiece: number,
  breakpoints: readonly number[] = [0],
): MeasuredError {
  const domain = normaliseIntervals('max error', intervals);
  let best: Extremum = { x: domain[0]![0], value: 0 };
  let samples = 0;
  for (const [a, b] of domain) {
    const cuts = [a, ...breakpoints.filter((p) => p > a && p < b).sort((p, q) => p - q), b];
    for (let i = 0; i + 1 < cuts.length; i++) {
      const xs = lobattoGrid(cuts[i]!, cuts[i + 1]!, samplesPerPiece);
      if (i > 0) xs[0] = nudge(cuts[i]!, 1);
      if (i + 2 < cuts.length) xs[xs.length - 1] = nudge(cuts[i + 1]!, -1);
      const es = new Float64Array(xs.length);
      for (let k = 0; k < xs.length; k++) {
        const v = e(xs[k]!);
        if (!Number.isFinite(v)) throw new FitError(`max error: the error is ${v} at x=${xs[k]} (function or polynomial not finite)`);
        es[k] = v;
      }
      samples += xs.length;
      const found: Extremum[] = [];
      pieceExtrema(e, xs, es, found, { refineAbove: 0.5 });
      for (const ex of found) if (Math.abs(ex.value) > Math.abs(best.value)) best = ex;
    }
  }
  return { maxError: Math.abs(best.value), at: best, samples };
}

/** Measured max |f − approx| (optionally weighted) on the approximation's interval or the given intervals. */
export function measureMaxError(
  f: (x: number) => number,
  approx: PolynomialApproximation,
  options: MaxErrorOptions = {},
): MeasuredError {
  const { intervals = [approx.interval], breakpoints = [0], weight } = options;
  const samples = options.samplesPerPiece ?? Math.min(2 ** 19, Math.max(2048, 20 * (composedDegree(approx) + 1)));
  const e = weight
    ? (x: number) => weight(x) * (f(x) - evalApproximation(approx, x))
    : (x: number) => f(x) - evalApproximation(approx, x);
  return measureErrorCurve(e, intervals, samples, breakpoints);
}
