/**
 * CKKS parameter selection: the smallest ring dimension N and coefficient-modulus chain that hold the circuit's
 * depth at the chosen scale, within the 128-bit bounds of the Homomorphic Encryption Standard (as SEAL enforces
 * with sec_level_type::tc128), with primes SEAL can actually find.
 */
import { CompileError } from './errors.js';
import { sealPrimes } from './primes.js';

/** Maximum total coefficient-modulus bits for 128-bit classical security (HE Standard, SEAL's table). */
export const MAX_LOG_Q_128: Readonly<Record<number, number>> = {
  1024: 27,
  2048: 54,
  4096: 109,
  8192: 218,
  16384: 438,
  32768: 881,
};

export const RING_DIMENSIONS = [4096, 8192, 16384, 32768] as const;

export interface ParamRequest {
  /** Levels the circuit consumes (rescales on the longest path). */
  depth: number;
  /** Preferred bits of every scale prime (the scale Δ ≈ 2^scaleBits). */
  scaleBits: number;
  /** Fewest scale bits acceptable: tried (downwards) before moving to a larger ring. @default scaleBits */
  minScaleBits?: number;
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

export function chainBits(depth: number, scaleBits: number, headroomBits: number): number[] {
  const first = Math.min(60, scaleBits + headroomBits);
  const special = Math.min(60, Math.max(first, scaleBits));
  return [first, ...new Array<number>(depth).fill(scaleBits), special];
}

/** Pick the smallest N that fits, or throw a CompileError that says what the network needs and what to change. */
export function selectParameters(req: ParamRequest): SelectedParams {
  const { depth, scaleBits, headroomBits, minSlots, candidates = RING_DIMENSIONS } = req;
  const minScaleBits = Math.min(scaleBits, req.minScaleBits ?? scaleBits);
  if (!Number.isInteger(depth) || depth < 0) throw new CompileError(`select parameters: depth ${depth} is not a non-negative integer`);
  if (!Number.isInteger(scaleBits) || scaleBits < 14 || scaleBits > 60) {
    throw new CompileError(`select parameters: scale bits ${scaleBits} must be an integer in 14..60`);
  }
  const rejections: Rejection[] = [];
  for (const n of candidates) {
    const max = MAX_LOG_Q_128[n];
    if (max === undefined) throw new CompileError(`select parameters: unsupported ring dimension ${n}`);
    if (n / 2 < minSlots) {
      rejections.push({ n, reason: `${n / 2} slots < ${minSlots} needed by the packed layout` });
      continue;
    }
    // the preferred scale first, then smaller ones down to the minimum (a smaller ring is ~7x faster), then —
    // because SEAL needs `depth` primes of the scale size ≡ 1 mod 2N and small sizes run out at larger N —
    // larger ones, while the chain stays within the bound
    const sizes: number[] = [];
    for (let sb = scaleBits; sb >= minScaleBits; sb--) sizes.push(sb);
    for (let sb = scaleBits + 1; sb <= Math.min(60, scaleBits + 6); sb++) sizes.push(sb);
    let chosen: SelectedParams | null = null;
    let lastReason = '';
    for (const sb of sizes) {
      const bits = chainBits(depth, sb, headroomBits);
      const total = bits.reduce((a, b) => a + b, 0);
      if (total > max) {
        const fit = Math.floor((max - bits[0]! - bits[bits.length - 1]!) / sb);
        if (!lastReason || sb === minScaleBits) {
          lastReason = `needs ${total} modulus bits > ${max} (holds ${Math.max(0, fit)} levels of ${sb}-bit scale)`;
        }
        continue;
      }
      const primes = sealPrimes(n, bits);
      if (!primes) {
        lastReason = `SEAL cannot find ${depth} primes of ${sb} bits ≡ 1 mod ${2 * n}`;
        continue;
      }
      chosen = {
        polyModulusDegree: n,
        coeffModulusBits: bits,
        primes: primes.map(String),
        primeValues: primes.map(Number),
        scaleBits: sb,
        totalBits: total,
        maxTotalBits: max,
      };
      break;
    }
    if (chosen) return chosen;
    rejections.push({ n, reason: lastReason });
  }
  throw new CompileError(
    `no 128-bit CKKS parameters hold depth ${depth} at ${minScaleBits === scaleBits ? scaleBits : `${minScaleBits}–${scaleBits}`}-bit scale: ` +
      rejections.map((r) => `N=${r.n}: ${r.reason}`).join('; ') +
      `. Lower the precision (lower polynomial degree → less depth), use fewer activation layers, or fewer scale bits.`,
  );
}
