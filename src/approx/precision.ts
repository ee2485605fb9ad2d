/**
 * Precision k. Across pann (`pann fit`, compile, tune, study) precision k on a range [a, b] means a max error of
 * at most B·2^-k with B = max(|a|, |b|): relative to the range (the literature's precision 2^-k on [-B, B], and
 * for ReLU Lee et al.'s precision α of the sign on [-1, 1]). The fitter's own search (`fitForPrecision`) takes an
 * absolute target 2^-k on its interval; {@link rangeTarget} is the one rule that turns a precision on a range
 * into that search (`pann fit --absolute` asks for the absolute meaning instead).
 *
 * One rule for which k are valid, checked once where a value enters pann (a CLI flag, a grid file, a library
 * call); past that boundary it travels as `PrecisionBits` / `LayerPrecision`, which carry the proof that it was
 * checked.
 */
import { FitError } from '../errors.js';

/** The precisions pann fits and compiles for. */
export const PRECISION_BITS_RANGE: Readonly<{ min: number; max: number }> = Object.freeze({ min: 1, max: 40 });

/** A checked precision k (an integer in PRECISION_BITS_RANGE). */
export type PrecisionBits = number & { readonly __checkedPrecision: true };

/** Whether `k` is a valid precision (an integer in PRECISION_BITS_RANGE). */
export function isPrecisionBits(k: unknown): k is PrecisionBits {
  return typeof k === 'number' && Number.isInteger(k) && k >= PRECISION_BITS_RANGE.min && k <= PRECISION_BITS_RANGE.max;
}

/** `k` as a checked precision, or the error `onInvalid` makes (each boundary names the problem its own way). */
export function precisionBits(k: unknown, onInvalid: (k: unknown) => Error): PrecisionBits {
  if (!isPrecisionBits(k)) throw onInvalid(k);
  return k;
}

/** One precision per activation layer, checked. */
export class LayerPrecision {
  readonly bits: readonly PrecisionBits[];

  private constructor(bits: readonly PrecisionBits[]) {
    this.bits = Object.freeze([...bits]);
  }

  /**
   * A precision for each of `layers` activation layers: one k for all, or one per layer. Throws the error
   * `onInvalid` makes, with the message it is given (a wrong count, or an invalid k).
   */
  static of(k: number | readonly number[], layers: number, onInvalid: (message: string) => Error): LayerPrecision {
    const list = typeof k === 'number' ? new Array<number>(layers).fill(k) : [...k];
    if (list.length !== layers) throw onInvalid(`${list.length} precisions given for ${layers} activation layers`);
    return new LayerPrecision(
      list.map((x) =>
        precisionBits(x, () =>
          onInvalid(`precision k=${String(x)} must be an integer in ${PRECISION_BITS_RANGE.min}..${PRECISION_BITS_RANGE.max}`),
        ),
      ),
    );
  }

  /** The precision of activation layer `n` (0-based, in network order). */
  at(n: number): PrecisionBits {
    const k = this.bits[n];
    if (k === undefined) throw new RangeError(`no activation layer ${n} (${this.bits.length} layers)`);
    return k;
  }

  /** The largest k (the most demanding layer), or the smallest valid k when there are no layers. */
  max(): number {
    return Math.max(...this.bits, PRECISION_BITS_RANGE.min);
  }

  /** Whether every layer has the same k. */
  get uniform(): boolean {
    return this.bits.every((k) => k === this.bits[0]);
  }
}

/** How a precision k is read on a range: relative (max error ≤ B·2^-k, pann's meaning) or absolute (≤ 2^-k). */
export type PrecisionMeaning = 'relative' | 'absolute';

/** What precision k asks of an activation's fit on a range, and the search that meets it (see {@link rangeTarget}). */
export interface RangeTarget {
  readonly k: number;
  readonly meaning: PrecisionMeaning;
  /** max(|a|, |b|) of the range. */
  readonly B: number;
  /** The max error asked for on the range: B·2^-k (relative) or 2^-k (absolute). */
  readonly bound: number;
  /**
   * Fitted on [-1, 1] and carried to the range (a positively homogeneous activation on a symmetric range,
   * f(Bt) = B^h·f(t): the same polynomial serves every B, its error × B^h), or fitted on the range itself.
   */
  readonly carried: boolean;
  /** The interval the search runs on: [-1, 1] when carried, else the range. */
  readonly fitInterval: readonly [number, number];
  /**
   * The search's absolute target 2^-bits on fitInterval, in whole bits (the search takes whole bits; the fit is
   * then at least as precise as asked): the smallest integer with 2^-bits·(carried ? B^h : 1) ≤ bound, at least 1.
   */
  readonly bits: PrecisionBits;
}

/**
 * The one rule from a precision k on `range` to the fitter's search, used by `pann fit` and the compiler's
 * provider alike. `homogeneity` is the activation's degree of positive homogeneity (null if none). Throws
 * FitError when the search would need a precision outside PRECISION_BITS_RANGE.
 */
export function rangeTarget(
  k: number,
  range: readonly [number, number],
  options: { homogeneity: number | null; meaning?: PrecisionMeaning },
): RangeTarget {
  const { homogeneity: h, meaning = 'relative' } = options;
  const [a, b] = range;
  const B = Math.max(Math.abs(a), Math.abs(b));
  const { min, max } = PRECISION_BITS_RANGE;
  if (!isPrecisionBits(k)) throw new FitError(`precision: k must be an integer in ${min}..${max}, got ${k}`);
  if (meaning === 'absolute') return { k, meaning, B, bound: 2 ** -(k as number), carried: false, fitInterval: [a, b], bits: k };
  const carried = h !== null && a === -b;
  const errorScale = carried ? B ** h : 1;
  // 2^-bits · errorScale ≤ B·2^-k  ⇔  bits ≥ k − log2(B / errorScale); the 1e-12 keeps an exact power of two exact
  const bits = Math.max(1, Math.ceil(k - Math.log2(B / errorScale) - 1e-12));
  if (!isPrecisionBits(bits)) {
    throw new FitError(
      `precision ${k} relative to B = ${B} needs a fit to 2^-${bits} on ${carried ? '[-1, 1]' : `[${a}, ${b}]`}, outside ${min}..${max}`,
    );
  }
  return { k, meaning, B, bound: B * 2 ** -(k as number), carried, fitInterval: carried ? [-1, 1] : [a, b], bits };
}
