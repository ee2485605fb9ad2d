/**
 * Precision k: a target max error of 2^-k (the fitter: absolute, on its interval; the compiler: B·2^-k on an
 * activation's calibrated range [-B, B]). One rule for which k are valid, checked once where a value enters
 * pann (a CLI flag, a grid file, a library call); past that boundary it travels as `PrecisionBits` /
 * `LayerPrecision`, which carry the proof that it was checked.
 */

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
