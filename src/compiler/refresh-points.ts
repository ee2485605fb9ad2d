/**
 * Refresh pass (docs/refresh.md): where client-aided refresh rounds go, and the mask each one uses. A round goes
 * right before an activation layer, where the register holds the normalised input t = x/B (times the polynomial's
 * input multiplier), so |t| ≤ bound is known from calibration; its mask is uniform on [−2^λ·bound, 2^λ·bound].
 * The key holder decodes x + r in float64, which keeps 52 bits: λ + log2(bound) + the bits the next layer's
 * precision needs must fit in them.
 *
 * Placement: either the layers the caller lists, or a search. For every chain depth D the network could use, the
 * fewest rounds whose segments fit D (refreshCandidates); the driver compiles each candidate and keeps the one
 * with the lowest predicted latency (evaluation + the key holder's work + the link), so a network that fits one
 * chain still gets rounds when they make it faster, and one that fits no chain gets them because it must.
 */
import type { LayerPrecision } from '../approx/precision.js';
import type { CircuitMode } from '../circuit/index.js';
import { CompileError } from './errors.js';
import type { NormalisedNetwork } from './normalise.js';

/** The link between the key holder and the evaluator, for the predicted latency of transfers. */
export interface LinkModel {
  /** Bits per second each way; Infinity for `local` (no transfer time). */
  bitsPerSecond: number;
  /** Round-trip time per exchange (the request and each refresh round), ms. */
  rttMs: number;
}

/** `--link 100mbit`: what placement assumes unless told. */
export const DEFAULT_LINK: LinkModel = { bitsPerSecond: 100e6, rttMs: 0 };

const RATE_UNITS: Record<string, number> = { kbit: 1e3, mbit: 1e6, gbit: 1e9 };

/** `local`, or a rate like `100mbit`, `1.5gbit`, `512kbit`, with an optional round-trip time: `100mbit,20ms`. */
export function parseLink(text: string): LinkModel {
  const t = text.trim().toLowerCase();
  if (t === 'local') return { bitsPerSecond: Infinity, rttMs: 0 };
  const m = /^(\d+(?:\.\d+)?)(kbit|mbit|gbit)(?:,(\d+(?:\.\d+)?)ms)?$/.exec(t);
  const rate = m ? Number(m[1]) * RATE_UNITS[m[2]!]! : NaN;
  const rttMs = m?.[3] !== undefined ? Number(m[3]) : 0;
  if (!m || !(rate > 0) || !Number.isFinite(rate) || !(rttMs <= 60_000)) {
    throw new CompileError(
      `link "${text}": give local, or a rate such as 100mbit, 1gbit or 512kbit, optionally with a round trip: 100mbit,20ms`,
    );
  }
  return { bitsPerSecond: rate, rttMs };
}

/** How a link reads in reports: `local`, `100 Mbit/s`, `100 Mbit/s, 20 ms round trip`. */
export function describeLink(link: LinkModel): string {
  if (!Number.isFinite(link.bitsPerSecond)) return 'local';
  const [unit, div] = link.bitsPerSecond >= 1e9 ? ['Gbit/s', 1e9] : link.bitsPerSecond >= 1e6 ? ['Mbit/s', 1e6] : ['kbit/s', 1e3];
  const rate = `${+(link.bitsPerSecond / div).toPrecision(4)} ${unit}`;
  return link.rttMs > 0 ? `${rate}, ${link.rttMs} ms round trip` : rate;
}

/** Refresh rounds a compile should place. */
export interface RefreshOptions {
  /** Activation layers (0-based, in network order) to refresh right before; skips the search. */
  before?: readonly number[];
  /** Most rounds the search may place; 0 gives a single-chain circuit. @default one per activation layer */
  maxRounds?: number;
  /** Statistical hiding λ: each masked slot is within 2^−λ of uniform. @default DEFAULT_MASK_BITS */
  maskBits?: number;
  /** The link the search prices transfers at. @default DEFAULT_LINK */
  link?: LinkModel;
}

/**
 * One modulus chain, priced as compute only (local link): what the precision study and `pann tune` compare, so
 * their costs stay those of the single-chain circuits they were measured on.
 */
export const SINGLE_CHAIN: RefreshOptions = { maxRounds: 0, link: { bitsPerSecond: Infinity, rttMs: 0 } };

/** λ by default: 2^−32 statistical distance per slot; at bound 1 it leaves 52 − 32 − 2 guard bits for precision k ≤ 18. */
export const DEFAULT_MASK_BITS = 32;

/** Guard bits above k that the decoded value keeps below float64's rounding. */
const FLOAT64_GUARD_BITS = 2;

/** One refresh plan: mask bound by block index, and what the report shows. */
export interface RefreshPlan {
  /** Block index → mask bound R. */
  blocks: ReadonlyMap<number, number>;
  maskBits: number;
  /** The activation layers refreshed before. */
  layers: number[];
  /** Whether the caller listed the layers or the search chose them. */
  placement: 'explicit' | 'auto';
}

/**
 * The plans to compile: the caller's, or — searching — the single chain first, then for each chain depth the
 * fewest rounds that fit it (at most maxRounds), each plan once.
 */
export function refreshCandidates(
  network: NormalisedNetwork,
  precision: LayerPrecision,
  request: RefreshOptions | undefined,
  mode: CircuitMode,
): RefreshPlan[] {
  const maskBits = request?.maskBits ?? DEFAULT_MASK_BITS;
  if (!Number.isInteger(maskBits) || maskBits < 1 || maskBits > 50)
    throw new CompileError(`mask bits must be an integer in 1..50, got ${maskBits}`);
  const maxRounds = request?.maxRounds;
  if (maxRounds !== undefined && (!Number.isInteger(maxRounds) || maxRounds < 0))
    throw new CompileError(`max rounds must be an integer ≥ 0, got ${maxRounds}`);
  const activationBlocks = network.blocks.flatMap((b, i) => (b.kind === 'activation' ? [i] : []));
  if (request?.before !== undefined) {
    if (request.before.length > 0 && mode !== 'latency')
      throw new CompileError('refresh rounds are supported in latency mode only (for now)');
    return [explicitPlan(network, precision, activationBlocks, request.before, maskBits)];
  }
  const single: RefreshPlan = { blocks: new Map(), maskBits, layers: [], placement: 'auto' };
  if (mode !== 'latency' || maxRounds === 0) return [single];
  // layers whose masked values float64 can carry at this λ
  const eligible = activationBlocks.flatMap((block, layer) =>
    float64Shortfall(network, precision, block, layer, maskBits) > 0 ? [] : [layer],
  );
  const seen = new Set<string>(['']);
  const plans = [single];
  for (const layers of fewestRoundsPerDepth(
    network.depthPerStage,
    eligible.map((l) => activationBlocks[l]!),
  )) {
    const chosen = layers.map((block) => activationBlocks.indexOf(block));
    const key = chosen.join(',');
    if (seen.has(key) || chosen.length > (maxRounds ?? Infinity)) continue;
    seen.add(key);
    plans.push({ blocks: new Map(layers.map((b) => [b, maskBound(network, b, maskBits)])), maskBits, layers: chosen, placement: 'auto' });
  }
  return plans;
}

/** The caller's layers, checked against the network and the float64 bound. */
function explicitPlan(
  network: NormalisedNetwork,
  precision: LayerPrecision,
  activationBlocks: readonly number[],
  layers: readonly number[],
  maskBits: number,
): RefreshPlan {
  const blocks = new Map<number, number>();
  layers.forEach((layer, n) => {
    if (!Number.isInteger(layer) || layer < 0 || layer >= activationBlocks.length) {
      throw new CompileError(
        `refresh before activation layer ${layer}: the network has activation layers 0..${activationBlocks.length - 1}`,
      );
    }
    if (n > 0 && layer <= layers[n - 1]!) throw new CompileError(`refresh points must be ascending and distinct, got ${layers.join(', ')}`);
    const block = activationBlocks[layer]!;
    const shortfall = float64Shortfall(network, precision, block, layer, maskBits);
    if (shortfall > 0) {
      const boundBits = Math.ceil(Math.log2(inputBound(network, block)));
      const k = precision.bits[layer]!;
      throw new CompileError(
        `refresh before activation layer ${layer}: masks of 2^${maskBits} over values up to ${inputBound(network, block).toPrecision(3)} leave ` +
          `${52 - maskBits - boundBits} of float64's 52 bits for precision ${k} (+${FLOAT64_GUARD_BITS} guard bits); lower --mask-bits to ${maskBits - shortfall} or the precision`,
      );
    }
    blocks.set(block, maskBound(network, block, maskBits));
  });
  return { blocks, maskBits, layers: [...layers], placement: 'explicit' };
}

/** |t| ≤ this at the activation's input: its input multiplier when above 1, else 1. */
function inputBound(network: NormalisedNetwork, block: number): number {
  return Math.max(1, Math.abs(network.activations.get(block)!.inputMultiplier));
}

function maskBound(network: NormalisedNetwork, block: number, maskBits: number): number {
  return 2 ** maskBits * inputBound(network, block);
}

/** Bits by which λ + log2(bound) + k + guard bits exceed float64's 52 (≤ 0: it fits). */
function float64Shortfall(network: NormalisedNetwork, precision: LayerPrecision, block: number, layer: number, maskBits: number): number {
  return maskBits + Math.ceil(Math.log2(inputBound(network, block))) + precision.bits[layer]! + FLOAT64_GUARD_BITS - 52;
}

/**
 * For every chain depth D from the deepest unsplittable piece to the whole network: the fewest refresh points
 * (among `cuts`, block indices) whose segments fit D — a segment that ends in a round needs one level more
 * (schedule.ts chainDepth). Block-index lists, ascending; a depth no placement fits is skipped.
 */
export function fewestRoundsPerDepth(depthPerStage: readonly number[], cuts: readonly number[]): number[][] {
  const starts = [0, ...cuts.filter((c) => c > 0)];
  const pieceDepth = starts.map((s, j) => sumRange(depthPerStage, s, starts[j + 1] ?? depthPerStage.length));
  const total = pieceDepth.reduce((a, b) => a + b, 0);
  const out: number[][] = [];
  for (let D = Math.max(...pieceDepth); D <= total; D++) {
    const plan = fewestRounds(pieceDepth, D);
    if (plan) out.push(plan.map((j) => starts[j]!));
  }
  return out;
}

/** Fewest cuts (piece indices a segment starts at, 0 excluded) so every segment fits D; null when none does. */
function fewestRounds(pieceDepth: readonly number[], D: number): number[] | null {
  const P = pieceDepth.length;
  // best[j]: fewest rounds covering pieces [0, j) with a round right before piece j; from[j]: where that segment began
  const best = new Array<number>(P + 1).fill(Infinity);
  const from = new Array<number>(P + 1).fill(-1);
  best[0] = 0;
  for (let j = 1; j <= P; j++) {
    let depth = 0;
    for (let i = j - 1; i >= 0; i--) {
      depth += pieceDepth[i]!;
      const fits = j === P ? depth <= D : depth + 1 <= D;
      if (!fits) break;
      const rounds = best[i]! + (j === P ? 0 : 1);
      if (rounds < best[j]!) {
        best[j] = rounds;
        from[j] = i;
      }
    }
  }
  if (!Number.isFinite(best[P]!)) return null;
  const cuts: number[] = [];
  for (let j = from[P]!; j > 0; j = from[j]!) cuts.unshift(j);
  return cuts;
}

function sumRange(v: readonly number[], from: number, to: number): number {
  let s = 0;
  for (let i = from; i < to; i++) s += v[i]!;
  return s;
}
