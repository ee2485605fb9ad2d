/**
 * CKKS parameter selection: the smallest ring dimension N and coefficient-modulus chain that hold the circuit's
 * depth at the chosen scale, within the 128-bit bounds of the Homomorphic Encryption Standard (as SEAL enforces
 * with sec_level_type::tc128), with primes SEAL can actually find.
 */
import { MAX_COEFF_MODULUS_BITS_128 } from '../ckks/parameters.js';
import { CompileError } from './errors.js';
import { sealPrimes } from './primes.js';

/** Maximum total coefficient-modulus bits for 128-bit classical security (HE Standard, as SEAL enforces). */
export const MAX_LOG_Q_128: Readonly<Record<number, number>> = MAX_COEFF_MODULUS_BITS_128;

export const RING_DIMENSIONS = [4096, 8192, 16384, 32768] as const;

export interface ParamRequest {
  /** Levels the circuit consumes (rescales on the longest path). */
  depth: number;
  /** Fewest bits of the scale primes that keep CKKS noise below the approximation error. */
  minScaleBits: number;
  /**
   * Most scale bits wanted. Within a ring dimension larger primes cost nothing (SEAL works on 64-bit words),
   * so the largest scale that fits is taken — more precision for free.
   * @default 40
   */
  maxScaleBits?: number;
  /** Extra bits of the first prime above the scale, for the magnitude of the output and noise. */
  headroomBits: number;
  /** Slots the packed layout needs (N/2 must be ≥ this). */
  minSlots: number;
  /** Ring dimensions to consider, ascending. @default RING_DIMENSIONS */
  candidates?: readonly number[];
}

export interface SelectedParams {
  polyModulusDegree: number;
  /** Bit sizes: first prime, `depth` scale primes, special prime (SEAL order). */
  coeffModulusBits: number[];
  /** The primes SEAL will pick, as decimal strings (exact) … */
  primes: string[];
  /** … and as doubles (what SEAL divides scales by). */
  primeValues: number[];
  scaleBits: number;
  totalBits: number;
  maxTotalBits: number;
}

/** Why a ring dimension was rejected, for the error message when none fits. */
interface Rejection {
  n: number;
  reason: string;
}

/**
 * Bits of the special (key-switching) prime above the largest data prime. SEAL's hybrid key switching adds noise
 * of about Σ_j (q_j/P)·σ·N per rotation/relinearisation; with P no larger than q_0 that is ~2^18 in coefficient
 * units — about 2^-4 relative to a 22-bit scale (measured: 0.1 max slot error per rotation). Eight bits of
 * margin bring it below the rescale rounding noise.
 */
export const SPECIAL_PRIME_MARGIN_BITS = 8;

export function chainBits(depth: number, scaleBits: number, headroomBits: number): number[] {
  const first = Math.min(60, scaleBits + headroomBits);
  const special = Math.min(60, Math.max(first, scaleBits) + SPECIAL_PRIME_MARGIN_BITS);
  return [first, ...new Array<number>(depth).fill(scaleBits), special];
}

/**
 * Pick the smallest N whose 128-bit bound holds the depth at `minScaleBits`, then the largest scale (up to
 * `maxScaleBits`) that N holds with primes SEAL can find; or throw a CompileError that says what the network
 * needs and what to change.
 */
export function selectParameters(req: ParamRequest): SelectedParams {
  const { depth, minScaleBits, headroomBits, minSlots, candidates = RING_DIMENSIONS } = req;
  const maxScaleBits = Math.max(minScaleBits, req.maxScaleBits ?? 40);
  if (!Number.isInteger(depth) || depth < 0) throw new CompileError(`select parameters: depth ${depth} is not a non-negative integer`);
  for (const [name, v] of [
    ['minimum', minScaleBits],
    ['maximum', maxScaleBits],
  ] as const) {
    if (!Number.isInteger(v) || v < 14 || v > 60)
      throw new CompileError(`select parameters: ${name} scale bits ${v} must be an integer in 14..60`);
  }
  const rejections: Rejection[] = [];
  for (const n of candidates) {
    const max = MAX_LOG_Q_128[n];
    if (max === undefined) throw new CompileError(`select parameters: unsupported ring dimension ${n}`);
    if (n / 2 < minSlots) {
      rejections.push({ n, reason: `${n / 2} slots < ${minSlots} needed by the packed layout` });
      continue;
    }
    let reason = '';
    for (let sb = maxScaleBits; sb >= minScaleBits; sb--) {
      const bits = chainBits(depth, sb, headroomBits);
      const total = bits.reduce((a, b) => a + b, 0);
      if (total > max || bits[0]! > 60 || bits[bits.length - 1]! > 60) {
        if (sb === minScaleBits) {
          const fit = Math.floor((max - bits[0]! - bits[bits.length - 1]!) / sb);
          reason = `needs ${total} modulus bits > ${max} (holds ${Math.max(0, fit)} levels of ${sb}-bit scale)`;
        }
        continue;
      }
      const primes = sealPrimes(n, bits);
      if (!primes) {
        reason = `SEAL cannot find ${depth} primes of ${sb} bits ≡ 1 mod ${2 * n}`;
        continue;
      }
      return {
        polyModulusDegree: n,
        coeffModulusBits: bits,
        primes: primes.map(String),
        primeValues: primes.map(Number),
        scaleBits: sb,
        totalBits: total,
        maxTotalBits: max,
      };
    }
    rejections.push({ n, reason });
  }
  const range = minScaleBits === maxScaleBits ? `${minScaleBits}` : `${minScaleBits}–${maxScaleBits}`;
  throw new CompileError(
    `no 128-bit CKKS parameters hold depth ${depth} at ${range}-bit scale: ` +
      rejections.map((r) => `N=${r.n}: ${r.reason}`).join('; ') +
      `. Lower the precision (lower polynomial degree → less depth), use fewer activation layers, or fewer scale bits.`,
  );
}
