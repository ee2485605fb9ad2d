/**
 * CKKS encryption parameters: the ring dimension N and the coefficient-modulus chain (SEAL convention: data primes
 * q_0 … q_L, then the special key-switching prime last), checked against the 128-bit security bounds of the
 * Homomorphic Encryption Standard (Albrecht et al. 2018, Table 1, as SEAL enforces with sec_level_type::tc128)
 * and against the primes SEAL can actually find, before any context is built.
 */
import { CkksError } from '../errors.js';
import { callSeal, freeSeal, loadSeal, type SealLibrary } from './wasm.js';

export interface CkksParameters {
  /** Ring dimension N (a power of two, 1024 … 32768); N/2 slots. */
  polyModulusDegree: number;
  /** Bit sizes of the primes: data primes q_0 … q_L, then the special key-switching prime. */
  coeffModulusBits: readonly number[];
}

/** Maximum total coefficient-modulus bits for 128-bit classical security (HE Standard; SEAL's CoeffModulus::MaxBitCount). */
export const MAX_COEFF_MODULUS_BITS_128: Readonly<Record<number, number>> = Object.freeze({
  1024: 27,
  2048: 54,
  4096: 109,
  8192: 218,
  16384: 438,
  32768: 881,
});

/** SEAL's range for a user-chosen prime size (SEAL_USER_MOD_BIT_COUNT_MIN/MAX). */
export const PRIME_BITS_RANGE: Readonly<{ min: number; max: number }> = Object.freeze({ min: 2, max: 60 });

/** The primes SEAL picked, in chain order. */
export interface ModulusPrimes {
  /** Exact values as decimal strings. */
  decimal: string[];
  /** The same values as doubles (what SEAL divides a scale by on rescale). */
  values: number[];
  /** Actual bit length of each prime. */
  bits: number[];
}

export interface CheckedParameters extends ModulusPrimes {
  polyModulusDegree: number;
  coeffModulusBits: number[];
  /** Sum of the primes' bit lengths (what the security bound limits). */
  totalBits: number;
}

/** The checks that need no SEAL: N, prime sizes, chain length, security bound. Throws a CkksError naming the problem. */
export function validateParameterShape(p: CkksParameters): void {
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
  bits.forEach((b, i) => {
    if (!Number.isInteger(b) || b < PRIME_BITS_RANGE.min || b > PRIME_BITS_RANGE.max) {
      throw new CkksError(
        `parameters: coeffModulusBits[${i}] = ${b} is outside SEAL's prime size range ${PRIME_BITS_RANGE.min}…${PRIME_BITS_RANGE.max} bits`,
      );
    }
  });
  const total = bits.reduce((a, b) => a + b, 0);
  if (total > bound) {
    throw new CkksError(
      `parameters: coefficient modulus has ${total} bits, over the 128-bit security bound of ${bound} bits for N=${n} (drop primes, use smaller primes or a larger N)`,
    );
  }
}

/** SEAL's prime choice for (N, bit sizes), or a CkksError when SEAL finds too few primes of some size. */
export function sealPrimesWith(seal: SealLibrary, polyModulusDegree: number, coeffModulusBits: readonly number[]): ModulusPrimes {
  const what = `parameters: N=${polyModulusDegree}, primes of [${coeffModulusBits.join(', ')}] bits`;
  const vector = callSeal(what, () => seal.CoeffModulus.Create(polyModulusDegree, Int32Array.from(coeffModulusBits)));
  let primes: BigUint64Array;
  try {
    primes = callSeal(what, () => vector.toArray() as BigUint64Array);
  } finally {
    freeSeal(vector, what);
  }
  const list = Array.from(primes);
  return { decimal: list.map(String), values: list.map(Number), bits: list.map((q) => q.toString(2).length) };
}

/** The primes SEAL picks for `CoeffModulus.Create(N, bits)` (validates the shape first; no security check on the sizes). */
export async function sealPrimes(polyModulusDegree: number, coeffModulusBits: readonly number[]): Promise<ModulusPrimes> {
  if (MAX_COEFF_MODULUS_BITS_128[polyModulusDegree] === undefined) {
    throw new CkksError(`parameters: polyModulusDegree ${polyModulusDegree} is not supported`);
  }
  if (!coeffModulusBits.every((b) => Number.isInteger(b) && b >= PRIME_BITS_RANGE.min && b <= PRIME_BITS_RANGE.max)) {
    throw new CkksError(
      `parameters: prime sizes [${coeffModulusBits.join(', ')}] must be integers in ${PRIME_BITS_RANGE.min}…${PRIME_BITS_RANGE.max}`,
    );
  }
  const seal = await loadSeal();
  try {
    return sealPrimesWith(seal, polyModulusDegree, coeffModulusBits);
  } catch (err) {
    throw await explainPrimeShortage(err, polyModulusDegree, coeffModulusBits);
  }
}

/**
 * Full check: shape and security bound, then SEAL's prime search and context validation. Returns the primes
 * SEAL uses. Throws a CkksError naming the problem (e.g. "only 5 primes of 20 bits are ≡ 1 mod 16384").
 */
export async function checkParameters(p: CkksParameters): Promise<CheckedParameters> {
  validateParameterShape(p);
  const seal = await loadSeal();
  const primes = await sealPrimes(p.polyModulusDegree, p.coeffModulusBits);
  const parms = callSeal('parameters', () => seal.EncryptionParameters(seal.SchemeType.ckks));
  try {
    freeSeal(buildSealContext(seal, parms, p), 'parameters');
  } finally {
    freeSeal(parms, 'parameters');
  }
  return {
    polyModulusDegree: p.polyModulusDegree,
    coeffModulusBits: [...p.coeffModulusBits],
    totalBits: primes.bits.reduce((a, b) => a + b, 0),
    ...primes,
  };
}

/**
 * Set N and the chain on `parms` and build a SEAL context (tc128, expanded modulus chain). SEAL does not throw
 * on invalid parameters, it reports parametersSet() = false; node-seal 6.0.3 does not expose
 * parameter_error_message(), so the shape checks above are what explain a rejection.
 */
export function buildSealContext(
  seal: SealLibrary,
  parms: ReturnType<SealLibrary['EncryptionParameters']>,
  p: CkksParameters,
): ReturnType<SealLibrary['Context']> {
  const what = `parameters N=${p.polyModulusDegree} [${p.coeffModulusBits.join(', ')}]`;
  callSeal(what, () => parms.setPolyModulusDegree(p.polyModulusDegree));
  const vector = callSeal(what, () => seal.CoeffModulus.Create(p.polyModulusDegree, Int32Array.from(p.coeffModulusBits)));
  try {
    callSeal(what, () => parms.setCoeffModulus(vector));
  } finally {
    freeSeal(vector, what);
  }
  const context = callSeal(what, () => seal.Context(parms, true, seal.SecurityLevel.tc128));
  const ok = callSeal(what, () => context.parametersSet() && context.usingKeyswitching);
  if (!ok) {
    freeSeal(context, what);
    throw new CkksError(`${what}: SEAL rejected these parameters (parametersSet() is false or no key-switching prime)`);
  }
  return context;
}

const primeCounts = new Map<string, number>();

/**
 * How many primes of exactly `bits` bits are ≡ 1 (mod 2N), i.e. how many a chain can use (counted with SEAL's
 * own search, capped at `cap`).
 */
export async function availablePrimeCount(polyModulusDegree: number, bits: number, cap = 64): Promise<number> {
  const key = `${polyModulusDegree}:${bits}:${cap}`;
  const known = primeCounts.get(key);
  if (known !== undefined) return known;
  const seal = await loadSeal();
  const fits = (count: number): boolean => {
    try {
      sealPrimesWith(seal, polyModulusDegree, new Array<number>(count).fill(bits));
      return true;
    } catch {
      return false;
    }
  };
  let lo = 0;
  let hi = 1;
  while (hi <= cap && fits(hi)) {
    lo = hi;
    hi *= 2;
  }
  hi = Math.min(hi, cap + 1);
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (fits(mid)) lo = mid;
    else hi = mid;
  }
  primeCounts.set(key, lo);
  return lo;
}

/** Smallest prime size of which SEAL finds at least `count` primes for this N (null if none up to 60 bits). */
export async function smallestPrimeBits(polyModulusDegree: number, count: number): Promise<number | null> {
  for (let b = PRIME_BITS_RANGE.min; b <= PRIME_BITS_RANGE.max; b++) {
    if ((await availablePrimeCount(polyModulusDegree, b, count)) >= count) return b;
  }
  return null;
}

/** Turn SEAL's "failed to find enough qualifying primes" into a message saying which size ran short and by how much. */
async function explainPrimeShortage(err: unknown, n: number, bits: readonly number[]): Promise<unknown> {
  const wanted = new Map<number, number>();
  for (const b of bits) wanted.set(b, (wanted.get(b) ?? 0) + 1);
  for (const [b, count] of wanted) {
    const available = await availablePrimeCount(n, b, count);
    if (available < count) {
      return new CkksError(
        `parameters: SEAL finds only ${available} primes of ${b} bits ≡ 1 mod ${2 * n} for N=${n}, the chain needs ${count} (use larger primes or fewer of this size)`,
        { cause: err },
      );
    }
  }
  return err;
}
