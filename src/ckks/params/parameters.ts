/**
 * CKKS parameters as one checked, immutable object (Lattigo's ParametersLiteral → Parameters pattern): an
 * unchecked JSON-friendly literal — ring dimension N, the bit sizes of the coefficient-modulus chain (SEAL order:
 * data primes q_0 … q_L, then the special key-switching prime) and optionally the default scale — becomes a
 * `CkksParameters` through `CkksParameters.from`, which checks the 128-bit bound and finds the exact primes SEAL
 * will pick. Everything that plans, simulates, serialises or executes takes that object; only the code that
 * builds a SEAL context (src/ckks/context.ts) touches node-seal. Nothing here loads SEAL.
 */
import { CkksError } from '../../errors.js';
import { availablePrimeCount, coeffModulusPrimes } from './primes.js';
import { MAX_COEFF_MODULUS_BITS_128, PRIME_BITS_RANGE } from './security.js';

/** The unchecked form (what files and callers write). */
export interface CkksParametersLiteral {
  /** Ring dimension N (a power of two, 1024 … 32768); N/2 slots. */
  readonly polyModulusDegree: number;
  /** Bit sizes of the primes: data primes q_0 … q_L, then the special key-switching prime. */
  readonly coeffModulusBits: readonly number[];
  /**
   * log2 of the default scale Δ: the canonical scale at level 0 (the scale plans land every layer on). Optional:
   * a context for keys and ciphertexts does not need it; planning does. @default undefined
   */
  readonly scaleBits?: number;
}

/** The range of a default scale (bits) that pann plans with. */
export const SCALE_BITS_RANGE: Readonly<{ min: number; max: number }> = Object.freeze({ min: 14, max: 60 });

/**
 * Bits a planned scale stays below the modulus at its level: SEAL accepts a scale up to the level's modulus bit
 * count, but a value of magnitude up to 1 at scale Δ has coefficients up to about Δ, which must stay below Q_ℓ/2 to
 * decrypt without wrapping.
 */
export const PLANNED_SCALE_MARGIN_BITS = 1;

/** Parameters with a default scale: what plans and circuits use. */
export type ScaledParameters = CkksParameters & { readonly scaleBits: number };

/** Checked, immutable CKKS parameters (see the module comment); build one with {@link CkksParameters.from}. */
export class CkksParameters implements CkksParametersLiteral {
  readonly polyModulusDegree: number;
  readonly coeffModulusBits: readonly number[];
  readonly scaleBits: number | undefined;
  /** N/2. */
  readonly slotCount: number;
  /** Level of a fresh encryption: number of data primes − 1. */
  readonly maxLevel: number;
  /** The primes SEAL picks, exact, in chain order (data primes, then the special prime). */
  readonly primes: readonly bigint[];
  /** The same primes as doubles (what SEAL divides a scale by on rescale). */
  readonly primeValues: readonly number[];
  /** Sum of the prime sizes (what the security bound limits). */
  readonly totalBits: number;
  /** The 128-bit bound on totalBits for this N. */
  readonly maxTotalBits: number;
  /** Canonical scale per level (empty without scaleBits): S_0 = 2^scaleBits, S_ℓ = √(S_{ℓ−1}·q_ℓ). */
  readonly canonicalScales: readonly number[];
  readonly #levelBits: readonly number[];

  private constructor(literal: CkksParametersLiteral, primes: readonly bigint[]) {
    this.polyModulusDegree = literal.polyModulusDegree;
    this.coeffModulusBits = Object.freeze([...literal.coeffModulusBits]);
    this.scaleBits = literal.scaleBits;
    this.slotCount = literal.polyModulusDegree / 2;
    this.maxLevel = literal.coeffModulusBits.length - 2;
    this.primes = Object.freeze([...primes]);
    this.primeValues = Object.freeze(primes.map(Number));
    this.totalBits = this.coeffModulusBits.reduce((a, b) => a + b, 0);
    this.maxTotalBits = MAX_COEFF_MODULUS_BITS_128[this.polyModulusDegree]!;
    let acc = 0;
    this.#levelBits = Object.freeze(this.coeffModulusBits.slice(0, -1).map((b) => (acc += b)));
    this.canonicalScales = Object.freeze(
      literal.scaleBits === undefined ? [] : canonicalScaleLadder(2 ** literal.scaleBits, this.primeValues, this.maxLevel),
    );
    Object.freeze(this);
  }

  /**
   * Check a literal (or return a CkksParameters unchanged): N supported, prime sizes in SEAL's range, the 128-bit
   * bound, enough primes of every size, and the scale within SCALE_BITS_RANGE. Throws a CkksError naming the
   * problem (e.g. "SEAL finds only 5 primes of 20 bits ≡ 1 mod 16384 for N=8192, the chain needs 6").
   */
  static from(literal: CkksParametersLiteral & { readonly scaleBits: number }): ScaledParameters;
  static from(literal: CkksParametersLiteral | CkksParameters): CkksParameters;
  static from(literal: CkksParametersLiteral | CkksParameters): CkksParameters {
    if (literal instanceof CkksParameters) return literal;
    checkShape(literal);
    const primes = coeffModulusPrimes(literal.polyModulusDegree, literal.coeffModulusBits);
    if (!primes) throw primeShortage(literal.polyModulusDegree, literal.coeffModulusBits);
    return new CkksParameters(literal, primes);
  }

  /** The same chain with another default scale. */
  withScaleBits(scaleBits: number): ScaledParameters {
    checkScaleBits(scaleBits);
    return new CkksParameters({ ...this.literal(), scaleBits }, this.primes) as ScaledParameters;
  }

  /** Whether a default scale is set. */
  hasScale(): this is ScaledParameters {
    return this.scaleBits !== undefined;
  }

  /** The JSON-friendly literal this object was checked from. */
  literal(): CkksParametersLiteral {
    return {
      polyModulusDegree: this.polyModulusDegree,
      coeffModulusBits: [...this.coeffModulusBits],
      ...(this.scaleBits !== undefined ? { scaleBits: this.scaleBits } : {}),
    };
  }

  toJSON(): CkksParametersLiteral {
    return this.literal();
  }

  /** The data primes q_0 … q_L as doubles (the special prime excluded). */
  get dataPrimeValues(): readonly number[] {
    return this.primeValues.slice(0, -1);
  }

  /** The primes as decimal strings (exact). */
  get primeDecimals(): string[] {
    return this.primes.map(String);
  }

  /** Total bits of the modulus at a data level: SEAL's total_coeff_modulus_bit_count there. */
  levelBits(level: number): number {
    const bits = this.#levelBits[level];
    if (bits === undefined) throw new CkksError(`parameters: level ${level} is outside 0…${this.maxLevel}`);
    return bits;
  }

  /** log2 of the modulus product at a data level (a value v at scale Δ wraps unless |v|·Δ < 2^(this − 1)). */
  log2Modulus(level: number): number {
    this.levelBits(level);
    let bits = 0;
    for (let i = 0; i <= level; i++) bits += Math.log2(this.primeValues[i]!);
    return bits;
  }

  /** The prime a rescale from `level` drops (as a double). */
  rescalePrime(level: number): number {
    if (!Number.isInteger(level) || level < 1 || level > this.maxLevel) {
      throw new CkksError(`parameters: no level ${level} to rescale from (max level ${this.maxLevel})`);
    }
    return this.primeValues[level]!;
  }

  /** Canonical scale at a level (needs scaleBits). */
  canonicalScale(level: number): number {
    const s = this.canonicalScales[level];
    if (s === undefined) {
      throw new CkksError(
        this.scaleBits === undefined ? 'parameters: no default scale (scaleBits) set' : `no level ${level} (max level ${this.maxLevel})`,
      );
    }
    return s;
  }

  /**
   * SEAL's is_scale_within_bounds (checked by encode, multiply, rescale and modulus switching): positive, finite,
   * and ⌊log2(scale)⌋ below the level's total modulus bits.
   */
  sealAcceptsScale(level: number, scale: number): boolean {
    return scale > 0 && Number.isFinite(scale) && Math.trunc(Math.log2(scale)) < this.levelBits(level);
  }

  /** The stricter bound a plan keeps (PLANNED_SCALE_MARGIN_BITS below SEAL's): log2(scale) < levelBits − 1. */
  planAcceptsScale(level: number, scale: number): boolean {
    return scale > 0 && Number.isFinite(scale) && Math.log2(scale) < this.levelBits(level) - PLANNED_SCALE_MARGIN_BITS;
  }
}

/**
 * S_0 = base and S_ℓ = √(S_{ℓ−1}·q_ℓ): squaring a canonical ciphertext at level ℓ and rescaling lands exactly on
 * S_{ℓ−1}, and a plaintext multiplication needs a plaintext at scale S_ℓ. Defined bottom-up so the ladder stays
 * within the primes' range (top-down it would drift doubly exponentially).
 */
function canonicalScaleLadder(base: number, primes: readonly number[], maxLevel: number): number[] {
  const scales = [base];
  for (let l = 1; l <= maxLevel; l++) scales.push(Math.sqrt(scales[l - 1]! * primes[l]!));
  return scales;
}

/** The checks on a literal's shape, sizes and security bound (no prime search). */
function checkShape(p: CkksParametersLiteral): void {
  if (typeof p !== 'object' || p === null) throw new CkksError('parameters: expected { polyModulusDegree, coeffModulusBits }');
  const n = p.polyModulusDegree;
  const bound = MAX_COEFF_MODULUS_BITS_128[n];
  if (!Number.isInteger(n) || bound === undefined) {
    throw new CkksError(
      `parameters: polyModulusDegree ${n} is not supported (use a power of two in ${Object.keys(MAX_COEFF_MODULUS_BITS_128).join(', ')})`,
    );
  }
  const bits = p.coeffModulusBits;
  if (!Array.isArray(bits) || bits.length < 2) {
    throw new CkksError('parameters: coeffModulusBits needs at least 2 primes (data primes, then the special key-switching prime)');
  }
  bits.forEach((b: unknown, i) => {
    if (typeof b !== 'number' || !Number.isInteger(b) || b < PRIME_BITS_RANGE.min || b > PRIME_BITS_RANGE.max) {
      throw new CkksError(
        `parameters: coeffModulusBits[${i}] = ${String(b)} is outside SEAL's prime size range ${PRIME_BITS_RANGE.min}…${PRIME_BITS_RANGE.max} bits`,
      );
    }
  });
  const total = (bits as number[]).reduce((a, b) => a + b, 0);
  if (total > bound) {
    throw new CkksError(
      `parameters: coefficient modulus has ${total} bits, over the 128-bit security bound of ${bound} bits for N=${n} (drop primes, use smaller primes or a larger N)`,
    );
  }
  if (p.scaleBits !== undefined) checkScaleBits(p.scaleBits);
}

function checkScaleBits(scaleBits: number): void {
  if (!Number.isInteger(scaleBits) || scaleBits < SCALE_BITS_RANGE.min || scaleBits > SCALE_BITS_RANGE.max) {
    throw new CkksError(`parameters: scaleBits ${scaleBits} must be an integer in ${SCALE_BITS_RANGE.min}..${SCALE_BITS_RANGE.max}`);
  }
}

/** SEAL's "failed to find enough qualifying primes", saying which size ran short and by how much. */
function primeShortage(n: number, bits: readonly number[]): CkksError {
  const wanted = new Map<number, number>();
  for (const b of bits) wanted.set(b, (wanted.get(b) ?? 0) + 1);
  for (const [b, count] of wanted) {
    const available = availablePrimeCount(n, b, count);
    if (available < count) {
      return new CkksError(
        `parameters: SEAL finds only ${available} primes of ${b} bits ≡ 1 mod ${2 * n} for N=${n}, the chain needs ${count} (use larger primes or fewer of this size)`,
      );
    }
  }
  return new CkksError(`parameters: no primes for [${bits.join(', ')}] bits at N=${n}`);
}
