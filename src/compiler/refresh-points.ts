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
import { activationParts, outputBound, stageBounds } from './poly-eval.js';

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

/**
 * Where a round goes: before activation layer `layer` (stage 0), inside it after composite stage `stage`, or right
 * after it (stage = its number of parts: before the next linear layer).
 */
export interface RefreshAt {
  layer: number;
  stage: number;
}

/** Refresh rounds a compile should place. */
export interface RefreshOptions {
  /** Where to refresh (a number n = before activation layer n, 0-based); skips the search. */
  before?: readonly (number | RefreshAt)[];
  /** Most rounds the search may place; 0 gives a single-chain circuit. @default one per place a round can go */
  maxRounds?: number;
  /** Statistical hiding λ: each masked slot is within 2^−λ of uniform. @default DEFAULT_MASK_BITS */
  maskBits?: number;
  /** The link the search prices transfers at. @default DEFAULT_LINK */
  link?: LinkModel;
  /**
   * Free relayout at a round: the linear layer after it may take its input in any layout (the key holder moves the
   * masked values there). false keeps every value in its slot (for comparisons). @default true
   */
  relayout?: boolean;
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

/** One round of a plan: where, the depth unit it comes before, and the mask bound of each ciphertext it refreshes. */
export interface RefreshPoint extends RefreshAt {
  /** The block the round comes at the start of, or (inner) the activation block it is inside. */
  block: number;
  inner: boolean;
  unit: number;
  /** At a block's start: the register's; inside: the partial value's, then t's (when the finish needs t). */
  maskBounds: number[];
}

/** One refresh plan, and what the report shows. */
export interface RefreshPlan {
  points: RefreshPoint[];
  maskBits: number;
  /** Whether the caller listed the points or the search chose them. */
  placement: 'explicit' | 'auto';
}

/** How a point reads: `1` before activation layer 1, `1:2` after its composite stage 2 (or after it, its last). */
export function pointLabel(p: RefreshAt): string {
  return p.stage === 0 ? `${p.layer}` : `${p.layer}:${p.stage}`;
}

/**
 * The network as depth units, the granularity of refresh points: one per affine block, one per part of an
 * activation (activationParts: each composite stage, the finish with the last). A round may go before any
 * activation unit.
 */
export interface DepthUnits {
  depths: number[];
  block: number[];
  /** Where a round right before the unit sits (RefreshAt), or null where none can: the network's first unit. */
  at: (RefreshAt | null)[];
  /**
   * The bounds of the values a round right before the unit masks, in the order it refreshes them: t before an
   * activation; inside one, the partial value and (when the finish needs it) t; after one, its output.
   */
  bounds: number[][];
  /** Activation layers. */
  layers: number;
}

export function depthUnits(network: NormalisedNetwork): DepthUnits {
  const u: DepthUnits = { depths: [], block: [], at: [], bounds: [], layers: 0 };
  let after: { at: RefreshAt; bound: number } | null = null;
  network.blocks.forEach((b, i) => {
    if (b.kind === 'affine') {
      u.depths.push(1);
      u.block.push(i);
      u.at.push(after?.at ?? null);
      u.bounds.push(after ? [after.bound] : []);
      return;
    }
    const act = network.activations.get(i)!;
    const t = Math.max(1, Math.abs(act.inputMultiplier)); // |t| ≤ this: its input multiplier when above 1, else 1
    const partial = stageBounds(act);
    const parts = activationParts(act);
    const layer = u.layers++;
    parts.forEach((d, stage) => {
      u.depths.push(d);
      u.block.push(i);
      u.at.push({ layer, stage });
      u.bounds.push(stage === 0 ? [t] : act.finish !== 'none' ? [partial[stage - 1]!, t] : [partial[stage - 1]!]);
    });
    after = { at: { layer, stage: parts.length }, bound: outputBound(act) };
  });
  return u;
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
  const units = depthUnits(network);
  if (request?.before !== undefined) {
    if (request.before.length > 0 && mode !== 'latency')
      throw new CompileError('refresh rounds are supported in latency mode only (for now)');
    return [explicitPlan(network, precision, units, request.before, maskBits)];
  }
  const single: RefreshPlan = { points: [], maskBits, placement: 'auto' };
  if (mode !== 'latency' || maxRounds === 0) return [single];
  // activation units whose masked values float64 can carry at this λ
  const eligible = units.depths.flatMap((_, u) => (units.at[u] && float64Shortfall(precision, units, u, maskBits) <= 0 ? [u] : []));
  // the fewest rounds is not always the fastest: rounds before activations leave each linear layer (its rotations)
  // at the bottom of a segment, on few primes, so placements from those points alone are compared too
  const beforeOrInside = eligible.filter((u) => network.blocks[units.block[u]!]!.kind === 'activation');
  const seen = new Set<string>(['']);
  const plans = [single];
  for (const cuts of [...fewestRoundsPerDepth(units.depths, eligible), ...fewestRoundsPerDepth(units.depths, beforeOrInside)]) {
    const key = cuts.join(',');
    if (seen.has(key) || cuts.length > (maxRounds ?? Infinity)) continue;
    seen.add(key);
    plans.push({ points: cuts.map((u) => pointAt(network, units, u, maskBits)), maskBits, placement: 'auto' });
  }
  return plans;
}

/** The caller's points, checked against the network and the float64 bound. */
function explicitPlan(
  network: NormalisedNetwork,
  precision: LayerPrecision,
  units: DepthUnits,
  before: readonly (number | RefreshAt)[],
  maskBits: number,
): RefreshPlan {
  const { layers } = units;
  const unitsAt = before.map((at) => {
    const { layer, stage } = typeof at === 'number' ? { layer: at, stage: 0 } : at;
    if (!Number.isInteger(layer) || layer < 0 || layer >= layers) {
      throw new CompileError(`refresh before activation layer ${layer}: the network has activation layers 0..${layers - 1}`);
    }
    const u = units.at.findIndex((a) => a?.layer === layer && a.stage === stage);
    if (u < 0) {
      const last = Math.max(...units.at.map((a) => (a?.layer === layer ? a.stage : 0)));
      throw new CompileError(
        `refresh at ${pointLabel({ layer, stage })}: activation layer ${layer} takes rounds at stages 0..${last} (0: before it; ${last}: after it${last > 1 ? `; 1..${last - 1}: after its composite stages` : ''})`,
      );
    }
    return u;
  });
  unitsAt.forEach((u, n) => {
    if (n > 0 && u <= unitsAt[n - 1]!)
      throw new CompileError(
        `refresh points must be ascending and distinct, got ${before.map((a) => (typeof a === 'number' ? `${a}` : pointLabel(a))).join(', ')}`,
      );
    const shortfall = float64Shortfall(precision, units, u, maskBits);
    if (shortfall > 0) {
      const bound = unitBound(units, u);
      const boundBits = Math.ceil(Math.log2(bound));
      const k = precision.bits[units.at[u]!.layer]!;
      throw new CompileError(
        `refresh at ${pointLabel(units.at[u]!)}: masks of 2^${maskBits} over values up to ${bound.toPrecision(3)} leave ` +
          `${52 - maskBits - boundBits} of float64's 52 bits for precision ${k} (+${FLOAT64_GUARD_BITS} guard bits); lower --mask-bits to ${maskBits - shortfall} or the precision`,
      );
    }
  });
  return { points: unitsAt.map((u) => pointAt(network, units, u, maskBits)), maskBits, placement: 'explicit' };
}

/** The round before unit u: its place and mask bounds R = 2^λ·bound. */
function pointAt(network: NormalisedNetwork, units: DepthUnits, u: number, maskBits: number): RefreshPoint {
  const at = units.at[u]!;
  const block = units.block[u]!;
  const inner = at.stage > 0 && network.blocks[block]!.kind === 'activation';
  return { ...at, block, inner, unit: u, maskBounds: units.bounds[u]!.map((bound) => 2 ** maskBits * bound) };
}

/** The largest value a round before unit u masks. */
function unitBound(units: DepthUnits, u: number): number {
  return Math.max(...units.bounds[u]!);
}

/** Bits by which λ + log2(bound) + k + guard bits exceed float64's 52 (≤ 0: it fits). */
function float64Shortfall(precision: LayerPrecision, units: DepthUnits, u: number, maskBits: number): number {
  const k = precision.bits[units.at[u]!.layer]!;
  return maskBits + Math.ceil(Math.log2(unitBound(units, u))) + k + FLOAT64_GUARD_BITS - 52;
}

/**
 * For every chain depth D from the deepest unsplittable piece to the whole network: the fewest refresh points
 * (among `cuts`, indices into `depthPerStage`) whose segments fit D — a segment that ends in a round needs one level more
 * (schedule.ts chainDepth). Index lists, ascending; a depth no placement fits is skipped.
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
