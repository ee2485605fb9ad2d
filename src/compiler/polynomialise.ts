/**
 * Polynomialise: the default approximation provider. Precision k is normalised to the calibrated range: the
 * activation's max error on [−B, B] is at most B·2^−k (for ReLU this is Lee et al.'s "precision α" of the sign
 * approximation on [−1, 1]).
 *
 * - Positively homogeneous activations (ReLU, |x|, leaky ReLU, …; f(Bt) = B^h·f(t)) are fitted once on [−1, 1]
 *   at 2^−k and reused for every B — the same fits the committed catalog holds.
 * - Other activations (ULU, GELU, SiLU, …) are fitted on [−B, B] itself, to absolute error 2^−k' with
 *   k' = max(1, ⌈k − log2 B⌉) (the fitter takes whole bits, so the fit is at least as precise as asked).
 */
import type { Activation } from '../approx/activations.js';
import type { PolynomialApproximation } from '../approx/polynomial.js';
import type { AsymmetricWeight, FitMethod } from '../approx/fitted.js';
import { createFitCache, type FitCache, fitForPrecision } from '../approx/search.js';
import type { ApproximationMethod, ApproximationProvider, ProvidedApproximation } from './compile.js';
import { CompileError } from './errors.js';
import { errorMessage } from '../errors.js';

export interface FitterProviderOptions {
  /** Shared fit cache (a study reuses it across cells). @default a fresh cache */
  cache?: FitCache;
  /** Asymmetric (weighted) Remez: errors on negative inputs weigh `negative` times more. @default none */
  weight?: AsymmetricWeight;
}

function methodsFor(method: ApproximationMethod): FitMethod[] {
  return method === 'auto' ? ['chebyshev', 'remez', 'composite'] : [method];
}

/**
 * A fit of a positively homogeneous activation (degree h) on [−1, 1] carried to [−B, B]: the first stage reads
 * x/B (same coefficients on the scaled interval), a plain polynomial's output is multiplied by B^h, and a
 * relu/abs finish multiplies by x itself (sign(x/B) = sign(x)). The error scales by B^h exactly.
 */
export function carryToRange(a: PolynomialApproximation, B: number, h: number): PolynomialApproximation {
  const [lo, hi] = a.interval;
  if (lo !== -1 || hi !== 1) throw new CompileError(`carryToRange: expects a fit on [-1, 1], got [${lo}, ${hi}]`);
  const last = a.stages.length - 1;
  const stages = a.stages.map((s, i) => ({
    interval: (i === 0 ? [-B, B] : s.interval) as readonly [number, number],
    coefficients: a.finish === 'none' && i === last ? Array.from(s.coefficients as ArrayLike<number>, (c) => c * B ** h) : s.coefficients,
  }));
  return { ...a, interval: [-B, B], stages };
}

/**
 * The provider the CLI, the study and fine-tuning use: the fitter's precision search, with a cache. The returned
 * approximation is always on [−B, B] (its error ≤ B·2^−k).
 */
export function fitterProvider(options: FitterProviderOptions = {}): ApproximationProvider {
  const cache: FitCache = options.cache ?? createFitCache();
  const memo = new Map<string, ProvidedApproximation>();
  return ({ activation, B, precisionBits, method }) => {
    const h = activation.homogeneity;
    const homogeneous = h !== null && (h === 1 || method !== 'composite');
    const interval: [number, number] = homogeneous ? [-1, 1] : [-B, B];
    // absolute target B·2^-k on [-B, B] in whole bits, at least 1 (then the fit is more precise than asked)
    const k = homogeneous ? precisionBits : Math.max(1, Math.ceil(precisionBits - Math.log2(B) - 1e-12));
    const key = `${activation.toString()}|${B}|${k}|${method}|${options.weight ? `${options.weight.negative},${options.weight.positive}` : ''}`;
    const hit = memo.get(key);
    if (hit) return hit;
    if (k < 1 || k > 40) {
      throw new CompileError(
        `activation ${activation.toString()} on [-${B}, ${B}]: precision ${precisionBits} needs absolute error 2^-${k}, outside 1..40`,
      );
    }
    const methods = methodsFor(method).filter((m) => !(options.weight && m === 'composite'));
    let fit;
    try {
      fit = fitForPrecision(activation as Activation, {
        interval,
        k,
        methods: options.weight ? methods.filter((m) => m === 'remez') : methods,
        cache,
        ...(options.weight ? { weight: options.weight } : {}),
      });
    } catch (err) {
      throw new CompileError(`cannot approximate ${activation.toString()} at precision ${precisionBits}: ${errorMessage(err)}`, {
        cause: err,
      });
    }
    const scale = homogeneous ? B ** h! : 1;
    const provided: ProvidedApproximation = {
      approximation: homogeneous ? carryToRange(fit.approximation, B, h!) : fit.approximation,
      maxError: fit.maxError * scale,
      source: homogeneous
        ? `fitted on [-1, 1] (${fit.method}), scaled by B^${h}`
        : `fitted on [-${B.toPrecision(4)}, ${B.toPrecision(4)}] (${fit.method})`,
    };
    memo.set(key, provided);
    return provided;
  };
}
