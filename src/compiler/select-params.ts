/**
 * Select-parameters pass: the smallest ring dimension N and coefficient-modulus chain that hold the circuit's
 * depth at the chosen scale, within the 128-bit bounds of the Homomorphic Encryption Standard (as SEAL enforces
 * with sec_level_type::tc128), with primes SEAL can actually find. The result is a checked CkksParameters whose
 * default scale is the chosen one.
 */
import type { LayerPrecision } from '../approx/precision.js';
import {
  CkksParameters,
  MAX_COEFF_MODULUS_BITS_128,
  RING_DIMENSIONS,
  coeffModulusPrimes,
  rescaleNoiseLog2Bound,
  type ScaledParameters,
} from '../ckks/params/index.js';
import { CompileError } from './errors.js';
import type { NormalisedNetwork } from './normalise.js';

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
  /** Fewest bits of the first prime regardless of the scale (refresh rounds: it holds the masked values). @default 0 */
  minFirstBits?: number;
  /** Slots the packed layout needs (N/2 must be ≥ this). */
  minSlots: number;
  /** Ring dimensions to consider, ascending. @default RING_DIMENSIONS */
  candidates?: readonly number[];
}

/** Why a ring dimension was rejected, for the error message when none fits. */
interface Rejection {
  n: number;
  reason: string;
  /** The ring's 128-bit bound in modulus bits, when the depth was what did not fit (the error then says what it holds). */
  maxBits?: number;
}

/**
 * Bits of the special (key-switching) prime above the largest data prime. SEAL's hybrid key switching adds noise
 * of about Σ_j (q_j/P)·σ·N per rotation/relinearisation; with P no larger than q_0 that is ~2^18 in coefficient
 * units — about 2^-4 relative to a 22-bit scale (measured: 0.1 max slot error per rotation). Eight bits of
 * margin bring it below the rescale rounding noise.
 */
export const SPECIAL_PRIME_MARGIN_BITS = 8;

export function chainBits(depth: number, scaleBits: number, headroomBits: number, minFirstBits = 0): number[] {
  const first = Math.min(60, Math.max(scaleBits + headroomBits, minFirstBits));
  const special = Math.min(60, Math.max(first, scaleBits) + SPECIAL_PRIME_MARGIN_BITS);
  return [first, ...new Array<number>(depth).fill(scaleBits), special];
}

/**
 * Pick the smallest N whose 128-bit bound holds the depth at `minScaleBits`, then the largest scale (up to
 * `maxScaleBits`) that N holds with primes SEAL can find; or throw a CompileError that says what the network
 * needs and what to change. The chain is [first, depth × scale, special] (chainBits).
 */
export function selectParameters(req: ParamRequest): ScaledParameters {
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
    const max = MAX_COEFF_MODULUS_BITS_128[n];
    if (max === undefined) throw new CompileError(`select parameters: unsupported ring dimension ${n}`);
    if (n / 2 < minSlots) {
      rejections.push({ n, reason: `${n / 2} slots < ${minSlots} needed by the packed layout` });
      continue;
    }
    let reason = '';
    for (let sb = maxScaleBits; sb >= minScaleBits; sb--) {
      const bits = chainBits(depth, sb, headroomBits, req.minFirstBits);
      const total = bits.reduce((a, b) => a + b, 0);
      if (total > max || bits[0]! > 60 || bits[bits.length - 1]! > 60) {
        if (sb === minScaleBits) reason = `needs ${total} modulus bits > ${max}`;
        continue;
      }
      if (!coeffModulusPrimes(n, bits)) {
        reason = `SEAL cannot find ${depth} primes of ${sb} bits ≡ 1 mod ${2 * n}`;
        continue;
      }
      return CkksParameters.from({ polyModulusDegree: n, coeffModulusBits: bits, scaleBits: sb });
    }
    rejections.push({ n, reason, maxBits: max });
  }
  // what each ring could have held: searched only here, for the message (a compile that moves on to a larger ring
  // must not pay for it)
  const said = rejections.map((r) => {
    if (r.maxBits === undefined) return `N=${r.n}: ${r.reason}`;
    const most = deepestChain(r.n, r.maxBits, { ...req, minScaleBits, maxScaleBits });
    return `N=${r.n}: ${r.reason} (${most ? `holds at most ${most.depth} levels, at ${most.scaleBits}-bit scale` : 'holds no level'})`;
  });
  const range = minScaleBits === maxScaleBits ? `${minScaleBits}` : `${minScaleBits}–${maxScaleBits}`;
  throw new CompileError(
    `no 128-bit CKKS parameters hold depth ${depth} at ${range}-bit scale: ` +
      said.join('; ') +
      `. Lower the precision (lower polynomial degree → less depth), use fewer activation layers, or fewer scale bits.`,
  );
}

/**
 * The most levels ring N holds within its 128-bit bound at a scale in the request's range, with primes SEAL can find
 * (there are only so many primes of a few bits ≡ 1 mod 2N): what the error says a ring could have held.
 */
function deepestChain(
  n: number,
  maxBits: number,
  req: ParamRequest & { maxScaleBits: number },
): { depth: number; scaleBits: number } | null {
  for (let depth = Math.floor(maxBits / req.minScaleBits); depth >= 1; depth--) {
    for (let sb = req.maxScaleBits; sb >= req.minScaleBits; sb--) {
      const bits = chainBits(depth, sb, req.headroomBits, req.minFirstBits);
      if (bits.reduce((a, b) => a + b, 0) <= maxBits && bits[0]! <= 60 && bits[bits.length - 1]! <= 60 && coeffModulusPrimes(n, bits))
        return { depth, scaleBits: sb };
    }
  }
  return null;
}

/**
 * The fewest scale bits for a precision: CKKS noise after a rescale is about N/(4.2·Δ) per slot (≈ 2^−11 at
 * N=8192, Δ = 2^21); ten bits above the approximation's precision keep it several times below the approximation
 * error. The compiler then takes the largest scale the chosen ring dimension holds (up to 40 bits).
 */
export function minimumScaleBits(precisionBits: number): number {
  return Math.min(50, Math.max(20, Math.ceil(precisionBits) + 10));
}

function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

export interface ChooseParametersOptions {
  precision: LayerPrecision;
  /** Largest |logit| on the calibration set: the first prime holds the output. */
  outputAbsMax: number;
  inputSize: number;
  mode: 'latency' | 'throughput';
  /** Fixed scale bits. @default the largest the chosen ring holds, at least minimumScaleBits(k) */
  scaleBits?: number;
  /** Ring dimensions to consider, ascending. @default RING_DIMENSIONS */
  ringDimensions?: readonly number[];
  /** Levels the chain must hold (the longest segment between refresh rounds). @default network.depth */
  depth?: number;
  /**
   * The largest refresh mask bound R (0: no rounds). Rounds refresh at level 1, so the first prime must hold
   * |x + r| ≤ 2R with a bit to spare for SEAL's centred decoding (CircuitBuilder.refresh checks the same).
   */
  maskBound?: number;
}

/**
 * The parameters for a normalised network: its depth, a scale of at least minimumScaleBits of the most precise
 * layer, room in the first prime for the outputs, and enough slots for the widest packed layout. Returns them with
 * the report's note on the scale.
 *
 * Why the most precise layer, with per-layer k: rescale noise added at a level travels on into every later layer,
 * so a level needs the scale of the most precise layer at or after it (a suffix maximum), and only levels after
 * the last precise layer could use smaller primes. The chain here has one scale for every level (the canonical
 * ladder S_ℓ = √(S_{ℓ−1}·q_ℓ) would need a larger prime at each step where the requirement changes), so the
 * suffix maximum at the top — the maximum — decides. Smaller primes for trailing coarse levels would not change a
 * ring for pann's networks: at N=8192 the 20-bit floor already limits a chain to 8 levels, and a two-activation
 * network whose first layer needs more than 20 bits (k ≥ 11) is deeper than that; above N=8192 the largest scale
 * the ring holds is taken anyway.
 */
export function chooseParameters(network: NormalisedNetwork, options: ChooseParametersOptions): { params: ScaledParameters; note: string } {
  const { blocks } = network;
  const depth = options.depth ?? network.depth;
  const kMax = options.precision.max();
  const minScale = options.scaleBits ?? minimumScaleBits(kMax);
  const maxScale = options.scaleBits ?? Math.max(40, minScale);
  // the first prime holds the output: |logit|·Δ plus noise must stay below q_0/2
  const headroomBits = Math.max(6, Math.ceil(Math.log2(1.25 * options.outputAbsMax + 1)) + 4);
  const widest =
    options.mode === 'throughput'
      ? 1
      : Math.max(options.inputSize, ...blocks.map((b) => (b.kind === 'affine' ? nextPow2(b.map.outDim) : b.size)));
  const params = selectParameters({
    depth,
    minScaleBits: minScale,
    maxScaleBits: maxScale,
    headroomBits,
    ...(options.maskBound ? { minFirstBits: Math.ceil(Math.log2(2 * options.maskBound) + 1 + 1e-9) + 1 } : {}),
    minSlots: widest,
    ...(options.ringDimensions ? { candidates: options.ringDimensions } : {}),
  });
  const N = params.polyModulusDegree;
  const scaleBits = params.scaleBits;
  const note =
    `scale 2^${scaleBits}: the largest N=${N} holds at depth ${depth} (at least ${minScale} bits for precision ${kMax}); ` +
    `CKKS noise about 2^${rescaleNoiseLog2Bound(N, scaleBits)} per rescale`;
  return { params, note };
}
