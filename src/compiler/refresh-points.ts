/**
 * Refresh pass (docs/refresh.md): where client-aided refresh rounds go, and the mask each one uses. A round goes
 * right before an activation layer, where the register holds the normalised input t = x/B (times the polynomial's
 * input multiplier), so |t| ≤ bound is known from calibration; its mask is uniform on [−2^λ·bound, 2^λ·bound].
 * The key holder decodes x + r in float64, which keeps 52 bits: λ + log2(bound) + the bits the next layer's
 * precision needs must fit in them.
 */
import type { LayerPrecision } from '../approx/precision.js';
import type { CircuitMode } from '../circuit/index.js';
import { CompileError } from './errors.js';
import type { NormalisedNetwork } from './normalise.js';

/** Refresh rounds a compile should place. */
export interface RefreshOptions {
  /** Activation layers (0-based, in network order) to refresh right before. */
  before: readonly number[];
  /** Statistical hiding λ: each masked slot is within 2^−λ of uniform. @default DEFAULT_MASK_BITS */
  maskBits?: number;
}

/** λ by default: 2^−32 statistical distance per slot; at bound 1 it leaves 52 − 32 − 2 guard bits for precision k ≤ 18. */
export const DEFAULT_MASK_BITS = 32;

/** Guard bits above k that the decoded value keeps below float64's rounding. */
const FLOAT64_GUARD_BITS = 2;

/** The refresh plan: mask bound by block index, and what the report shows. */
export interface RefreshPlan {
  /** Block index → mask bound R. */
  blocks: ReadonlyMap<number, number>;
  maskBits: number;
  /** The activation layers refreshed before (as given). */
  layers: number[];
}

/** Check the request against the network and the float64 bound; the mask bound of each round. */
export function planRefresh(
  network: NormalisedNetwork,
  precision: LayerPrecision,
  request: RefreshOptions | undefined,
  mode: CircuitMode,
): RefreshPlan {
  const maskBits = request?.maskBits ?? DEFAULT_MASK_BITS;
  const layers = [...(request?.before ?? [])];
  if (layers.length === 0) return { blocks: new Map(), maskBits, layers };
  if (mode !== 'latency') throw new CompileError('refresh rounds are supported in latency mode only (for now)');
  if (!Number.isInteger(maskBits) || maskBits < 1 || maskBits > 50)
    throw new CompileError(`mask bits must be an integer in 1..50, got ${maskBits}`);
  const activationBlocks = network.blocks.flatMap((b, i) => (b.kind === 'activation' ? [i] : []));
  const blocks = new Map<number, number>();
  layers.forEach((layer, n) => {
    if (!Number.isInteger(layer) || layer < 0 || layer >= activationBlocks.length) {
      throw new CompileError(
        `refresh before activation layer ${layer}: the network has activation layers 0..${activationBlocks.length - 1}`,
      );
    }
    if (n > 0 && layer <= layers[n - 1]!) throw new CompileError(`refresh points must be ascending and distinct, got ${layers.join(', ')}`);
    const block = activationBlocks[layer]!;
    const bound = Math.max(1, Math.abs(network.activations.get(block)!.inputMultiplier));
    const k = precision.bits[layer]!;
    const needed = maskBits + Math.ceil(Math.log2(bound)) + k + FLOAT64_GUARD_BITS;
    if (needed > 52) {
      throw new CompileError(
        `refresh before activation layer ${layer}: masks of 2^${maskBits} over values up to ${bound.toPrecision(3)} leave ` +
          `${52 - maskBits - Math.ceil(Math.log2(bound))} of float64's 52 bits for precision ${k} (+${FLOAT64_GUARD_BITS} guard bits); lower --mask-bits to ${52 - needed + maskBits} or the precision`,
      );
    }
    blocks.set(block, 2 ** maskBits * bound);
  });
  return { blocks, maskBits, layers };
}
