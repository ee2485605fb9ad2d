/**
 * A fit for precision k on a range, as `pann fit --precision` and the compiler's provider ask for it: the search
 * {@link rangeTarget} prescribes (precision.ts: relative to the range by default, max error ≤ B·2^-k), run by
 * `fitForPrecision`, and for a positively homogeneous activation the [-1, 1] fit carried to the range. One
 * function, so `pann fit --precision k --range -B,B` and `pann compile -k k` on a range B choose the same fit.
 */
import type { Activation } from './activations.js';
import { scaleApproximation, type FittedApproximation } from './fitted.js';
import { rangeTarget, type PrecisionMeaning, type RangeTarget } from './precision.js';
import { fitForPrecision, type Alternative, type PrecisionOptions } from './search.js';

/** Options of {@link fitForRange}: those of `fitForPrecision`, with k read on the interval by `meaning`. */
export interface RangeOptions extends PrecisionOptions {
  /** Relative: max error ≤ B·2^-k with B = max(|a|, |b|); absolute: ≤ 2^-k. @default 'relative' */
  meaning?: PrecisionMeaning;
}

/** The chosen fit on the range, the target it met, and every method's result (carried to the range too). */
export interface RangeFit extends FittedApproximation {
  readonly precision: RangeTarget;
  /** As PrecisionFit.alternatives: computed when first read, not enumerable. */
  readonly alternatives: readonly Alternative[];
}

/** The cheapest fit of `act` on `options.interval` meeting precision k read as `options.meaning`. */
export function fitForRange(act: Activation, options: RangeOptions): RangeFit {
  const { meaning, ...rest } = options;
  const precision = rangeTarget(options.k, options.interval, { homogeneity: act.homogeneity, ...(meaning ? { meaning } : {}) });
  // a gap is carried with the range: on [-1, 1] it is gap/B
  const gap = rest.gap !== undefined && precision.carried ? { gap: rest.gap / precision.B } : {};
  const fit = fitForPrecision(act, { ...rest, ...gap, interval: precision.fitInterval, k: precision.bits });
  const carry = (f: FittedApproximation) => (precision.carried ? scaleApproximation(f, precision.B) : f);
  const { k: _k, target: _target, ...chosen } = carry(fit) as FittedApproximation & { k?: number; target?: number };
  const result = { ...chosen, precision } as RangeFit;
  let alternatives: Alternative[] | null = null;
  Object.defineProperty(result, 'alternatives', {
    get: () => (alternatives ??= fit.alternatives.map((x) => (x.fit ? { ...x, fit: carry(x.fit) } : x))),
    enumerable: false,
  });
  return result;
}
