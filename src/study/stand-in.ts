/**
 * Polynomial stand-ins for polynomial-aware fine-tuning: the same fits the compiler would use at precision k
 * (max error ≤ B·2^−k on [−B, B]), but as approximations on [−B, B] itself, which is what a model's polynomial
 * layer holds. Positively homogeneous activations (ReLU, …) are fitted once on [−1, 1] and carried to [−B, B]
 * exactly (scaleApproximation); others are fitted on [−B, B] to absolute error 2^−⌈k − log2 B⌉.
 */
import type { Activation } from '../approx/activations.js';
import { scaleApproximation } from '../approx/fitted.js';
import type { PolynomialApproximation } from '../approx/polynomial.js';
import { type FitCache, fitForPrecision } from '../approx/search.js';
import type { FitMethod } from '../approx/fitted.js';
import { StudyError, errorMessage } from '../errors.js';
import type { StudyMethod } from './grid.js';

/** The fitted stand-in of `activation` on [−bound, bound] at normalised precision k. */
export function standInPolynomial(
  activation: Activation,
  bound: number,
  k: number,
  method: StudyMethod,
  cache: FitCache,
): PolynomialApproximation {
  const methods: FitMethod[] = method === 'auto' ? ['chebyshev', 'remez', 'composite'] : [method];
  const h = activation.homogeneity;
  try {
    if (h !== null && (h === 1 || method !== 'composite')) {
      return scaleApproximation(fitForPrecision(activation, { interval: [-1, 1], k, methods, cache }), bound).approximation;
    }
    const kAbs = Math.ceil(k - Math.log2(bound) - 1e-12);
    if (kAbs < 1 || kAbs > 40) throw new StudyError(`precision ${k} on [-${bound}, ${bound}] needs absolute error 2^-${kAbs}, outside 1..40`);
    return fitForPrecision(activation, { interval: [-bound, bound], k: kAbs, methods, cache }).approximation;
  } catch (err) {
    throw new StudyError(`fine-tuning stand-in for ${activation.toString()} at precision ${k}: ${errorMessage(err)}`, { cause: err });
  }
}
