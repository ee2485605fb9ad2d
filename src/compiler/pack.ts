/**
 * Pack pass: the normalised network becomes circuit ops, block by block, with every level and scale fixed by the
 * builder. Latency mode (one input per ciphertext): each affine block picks the cheapest packing by the op-cost
 * model (pack-linear.ts: a generic fold, or anchored outputs for a convolution on the replicated input image),
 * each activation is evaluated by its plan (poly-eval.ts). Throughput mode: throughput.ts.
 */
import type { OpCostFn } from '../ckks/params/index.js';
import type { CircuitBuilder, CircuitMode, CircuitOp, CircuitStage, Relayout, SlotLayout } from '../circuit/index.js';
import type { ConvGeometry, NetBlock } from './fold.js';
import type { NormalisedNetwork } from './normalise.js';
import { type LinearPacking, type OutputPlacement, emitLinear, planLinear } from './pack-linear.js';
import { type CircuitActivation, emitActivation, outputBound } from './poly-eval.js';
import type { AffineMap } from './affine.js';
import { affineFromTriplets } from './affine.js';
import { CompileError } from './errors.js';
import type { PolynomialActivation } from './polynomialise.js';
import { emitThroughputNetwork } from './throughput.js';

export interface PackOptions {
  mode: CircuitMode;
  /** Length of one network input. */
  inputSize: number;
  opCost: OpCostFn;
  /** 'fold' forces the generic fold packing for every affine block (benchmarks measure both). */
  packing: 'auto' | 'fold';
  /** Block index → mask bound of a refresh round right before that block (refresh-points.ts). */
  /** Refresh rounds (refresh-points.ts), each with the level the segment after it starts at. */
  refresh?: readonly { block: number; inner: boolean; stage: number; maskBounds: readonly number[]; level: number }[];
  /** The level the first block starts at (below the top when the first segment is shorter than the chain). */
  startLevel?: number;
  /** Let the linear layer after a refresh round take any input layout (a relayout at the round). @default true */
  relayout?: boolean;
  /** Mask bits of the rounds (refresh-points.ts): a skip value carried through a round is masked at 2^bits × its bound. */
  maskBits?: number;
  /** Largest |network input| (a residual term reading the input masks it with this bound). */
  inputAbsMax?: number;
}

/** The emitted network: where inputs and outputs sit, the output registers and one stage per (fused) block. */
export interface PackedNetwork {
  inputLayout: SlotLayout;
  outputLayout: SlotLayout;
  outputs: number[];
  stages: CircuitStage[];
  /** The blocks each stage covers, [first, last]. */
  spans: [number, number][];
  /** Free relayouts at refresh rounds (latency mode). */
  relayouts?: (Relayout & { round: number })[];
}

/** Emit the whole network into `builder`. */
export function packNetwork(
  builder: CircuitBuilder,
  network: NormalisedNetwork,
  planned: readonly PolynomialActivation[],
  options: PackOptions,
): PackedNetwork {
  const inputScale = builder.canonical(builder.maxLevel);
  if (options.mode === 'throughput') {
    const inputs = Array.from({ length: options.inputSize }, () => builder.input(inputScale));
    const { outputs, stages, spans } = emitThroughputNetwork(builder, network.blocks, network.maps, network.activations, inputs);
    const registers = (regs: number[]): SlotLayout => ({ length: regs.length, slots: regs.map((r) => [r]) });
    return { inputLayout: registers(inputs), outputLayout: registers(outputs), outputs, stages, spans };
  }
  return packLatency(builder, network, planned, options, builder.input(inputScale));
}

/** Latency packing: one input per ciphertext, linear layers packed with rotations. */
function packLatency(
  builder: CircuitBuilder,
  network: NormalisedNetwork,
  planned: readonly PolynomialActivation[],
  options: PackOptions,
  input: number,
): PackedNetwork {
  let x = input;
  if (options.startLevel !== undefined && options.startLevel < builder.level[x]!) x = builder.drop(x, options.startLevel);
  let layout: SlotLayout | null = null;
  let inputLayout: SlotLayout | null = null;
  const stages: CircuitStage[] = [];
  // the op index of the latest refresh when no linear layer came after it: the next one may take any input layout
  // for free, since the key holder moves the masked values where it wants them (a relayout, docs/refresh.md)
  let freeAt: number | null = null;
  const relayoutAt = new Map<number, Relayout>();
  const skips = new SkipValues(builder, network, options);
  network.blocks.forEach((b, i) => {
    const first = builder.ops.length;
    const rounds = options.refresh?.filter((r) => r.block === i) ?? [];
    const before = rounds.find((r) => !r.inner);
    // a refresh round belongs to the block it feeds: fresh at the top level, then down to the level where the
    // schedule starts this segment (a segment shorter than the chain runs on fewer primes, so every op is cheaper)
    if (before) {
      freeAt = builder.ops.length;
      x = builder.refresh(x, before.maskBounds[0]!);
      skips.carryThroughRound(i); // residual values still to be read ride in the same round
      if (before.level < builder.maxLevel) x = builder.drop(x, before.level);
    }
    const inner = rounds
      .filter((r) => r.inner)
      .map((r) => ({ stage: r.stage, maskBounds: [r.maskBounds[0]!, r.maskBounds[1] ?? 0] as const, level: r.level }));
    const levelIn = builder.level[x]!;
    let detail: Record<string, unknown>;
    if (b.kind === 'affine') {
      const free = freeAt !== null && options.relayout !== false;
      const linear = packAffine(builder, x, b, network.maps[i]!, layout, free, options);
      if (layout === null) {
        inputLayout = linear.input;
        skips.produced(-1, input, linear.input);
      } else if (linear.input !== layout) {
        const from = layout.slots.map((copies) => copies[0]!);
        relayoutAt.set(freeAt!, { from, to: linear.input.slots });
        linear.detail['relayout'] = true;
      }
      freeAt = null;
      x = linear.output;
      if (b.skips) {
        const added = skips.emit(i, b, levelIn, linear.outLayout, options, relayoutAt);
        x = added.reduce((acc, s) => builder.add(acc, s.output), x);
        linear.detail['skips'] = added.map((s) => s.detail);
      }
      layout = linear.outLayout;
      detail = linear.detail;
    } else {
      const act = network.activations.get(i)!;
      x = emitActivation(builder, x, act, inner, () => skips.carryThroughRound(i + 1));
      freeAt = lastMainRefresh(builder.ops, first, skips.refreshOps) ?? freeAt;
      detail = activationDetail(
        planned.find((q) => q.block === i)!,
        act,
      );
    }
    if (b.kind === 'activation') skips.produced(i, x, layout!);
    stages.push({
      name: b.name,
      kind: b.kind === 'affine' ? 'linear' : 'activation',
      ops: [first, builder.ops.length],
      levelIn,
      levelOut: builder.level[x]!,
      detail,
    });
  });
  if (!inputLayout || !layout) throw new Error('internal: a network without an affine block');
  const relayouts = roundRelayouts(builder.ops, relayoutAt, skips.refreshOps);
  return { inputLayout, outputLayout: layout, outputs: [x], stages, spans: stages.map((_, i) => [i, i]), relayouts };
}

/** The op index of the last refresh of the main value at or after `first`, if any. */
function lastMainRefresh(ops: readonly CircuitOp[], first: number, carried: ReadonlySet<number>): number | null {
  for (let k = ops.length - 1; k >= first; k--) if (ops[k]!.op === 'refresh' && !carried.has(k)) return k;
  return null;
}

function activationDetail(p: PolynomialActivation, act: CircuitActivation): Record<string, unknown> {
  return {
    activation: p.report.activation,
    B: p.report.B,
    degrees: p.report.degree,
    method: p.report.method,
    ctMultiplications: act.plans.reduce((s, q) => s + q.cost.ctMultiplications, 0),
  };
}

/**
 * The relayouts by round: the main value's (set at one of its refresh ops) for every ciphertext of the round that is
 * not a carried residual value, each carried value's own (or none). One entry for the whole round when every
 * ciphertext has the same; else one per ciphertext that has one.
 */
function roundRelayouts(
  ops: readonly CircuitOp[],
  at: ReadonlyMap<number, Relayout>,
  carried: ReadonlySet<number>,
): (Relayout & { round: number; ciphertext?: number })[] {
  const out: (Relayout & { round: number; ciphertext?: number })[] = [];
  let round = -1;
  for (let k = 0; k < ops.length; k++) {
    if (ops[k]!.op !== 'refresh') continue;
    round++;
    let end = k;
    while (end < ops.length && ops[end]!.op === 'refresh') end++;
    const members = Array.from({ length: end - k }, (_, n) => k + n);
    const main = members
      .filter((m) => !carried.has(m))
      .map((m) => at.get(m))
      .find((r) => r !== undefined);
    const per = members.map((m) => (carried.has(m) ? at.get(m) : main));
    if (per.every((r) => r === per[0])) {
      if (per[0]) out.push({ round, ...per[0] });
    } else {
      per.forEach((r, ciphertext) => r && out.push({ round, ciphertext, ...r }));
    }
    k = end - 1;
  }
  return out;
}

interface PackCandidate {
  input: SlotLayout;
  pack: LinearPacking;
  label: string;
}

/**
 * One affine block in latency packing: the candidate packings, the cheapest by the op-cost model emitted (or the
 * fold when forced). On the current layout: the fold, and for a square map anchored in place. Where the input
 * layout is free (the network input, which the client encodes as it is told, or right after a refresh round,
 * whose key holder relays the values for nothing): one input copy and a fold, a convolution on its input replicated
 * per output channel with anchored outputs, and folds on inputs spread over few slot classes (spreadLayouts).
 */
function packAffine(
  builder: CircuitBuilder,
  x: number,
  block: Extract<NetBlock, { kind: 'affine' }>,
  map: NonNullable<NormalisedNetwork['maps'][number]>,
  layout: SlotLayout | null,
  free: boolean,
  options: PackOptions,
): { input: SlotLayout; output: number; outLayout: SlotLayout; detail: Record<string, unknown> } {
  const slots = builder.slotCount;
  const N = 2 * slots;
  const levelIn = builder.level[x]!;
  const candidates: PackCandidate[] = [];
  if (layout !== null) {
    candidates.push({ input: layout, pack: foldPlan(map, layout, slots), label: 'fold' });
    if (map.outDim === map.inDim) {
      const anchors = Int32Array.from(layout.slots, (c) => c[0]!);
      candidates.push({
        input: layout,
        pack: planLinear(map, layout, slots, { kind: 'anchored', slots: anchors }),
        label: 'anchored in place',
      });
    }
  }
  if (layout === null || free) candidates.push(...freeLayoutCandidates(block, map, slots, levelIn, options));
  const costs = candidates.map((c) => packingCost(c.pack, N, levelIn, options.opCost));
  let best = costs.indexOf(Math.min(...costs));
  if (options.packing === 'fold') best = 0; // forced (benchmarks measure both packings)
  const chosen = candidates[best]!;
  const output = emitLinear(builder, x, map, chosen.pack);
  const detail = {
    packing: chosen.label,
    diagonals: chosen.pack.diagonals.length,
    babySteps: chosen.pack.babySteps.length,
    giantSteps: chosen.pack.giantSteps.length,
    foldSteps: chosen.pack.foldSteps.length,
    alternatives: candidates.map((c, n) => ({
      packing: c.label,
      rotations: c.pack.rotations,
      plainMultiplications: c.pack.plainMultiplications,
      predictedMs: Number(costs[n]!.toFixed(2)),
    })),
    inDim: map.inDim,
    outDim: map.outDim,
  };
  return { input: chosen.input, output, outLayout: chosen.pack.outLayout, detail };
}

/**
 * The candidates where the input layout is free: one input copy and a fold, channel-strided and replicated
 * convolution layouts, and the two spread layouts a BSGS estimate ranks first.
 */
function freeLayoutCandidates(
  block: Extract<NetBlock, { kind: 'affine' }>,
  map: AffineMap,
  slots: number,
  levelIn: number,
  options: PackOptions,
): PackCandidate[] {
  const N = 2 * slots;
  const candidates: PackCandidate[] = [];
  const single = singleCopyLayout(map.inDim);
  candidates.push({ input: single, pack: foldPlan(map, single, slots), label: 'fold (single input copy)' });
  const strided = block.geometry && channelStridedLayout(block.geometry, slots);
  if (strided) {
    candidates.push({
      input: strided.input,
      pack: planLinear(map, strided.input, slots, strided.placement),
      label: `conv (channels ${strided.planeStride} slots apart, ${strided.replicas} rotated replica(s), ${strided.stride > 1 ? 'multiplexed ' : ''}outputs)`,
    });
  }
  const conv = convReplicatedLayout(block, slots);
  if (conv) {
    candidates.push({
      input: conv.input,
      pack: planLinear(map, conv.input, slots, { kind: 'anchored', slots: conv.anchors }),
      label: 'conv (input replicated per channel, anchored outputs)',
    });
  }
  // planning is the slow part: plan the two periods a BSGS estimate ranks first (d diagonals, about 2√d − 2
  // baby and giant rotations, log2(S/m) fold steps)
  const estimate = (sp: { period: number; classes: number }) =>
    (Math.max(0, 2 * Math.ceil(Math.sqrt(sp.classes)) - 2) + Math.log2(slots / sp.period)) * options.opCost('rotate', N, levelIn) +
    sp.classes * (options.opCost('mulPlain', N, levelIn) + options.opCost('add', N, levelIn));
  const spreads = spreadLayouts(map.inDim, map.outDim, slots)
    .sort((a, b) => estimate(a) - estimate(b))
    .slice(0, 2);
  for (const spread of spreads) {
    candidates.push({
      input: spread.input,
      pack: planLinear(map, spread.input, slots, { kind: 'fold', period: spread.period }),
      label: `fold (input spread over ${spread.classes} of ${spread.period} slot classes)`,
    });
  }
  return candidates;
}

/** The fold on `input` with the smallest period that holds the outputs. */
function foldPlan(map: AffineMap, input: SlotLayout, slots: number): LinearPacking {
  return planLinear(map, input, slots, { kind: 'fold', period: Math.max(1, nextPow2(map.outDim)) });
}

function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/**
 * Input layouts that make a fold of period m cheap (m a power of two ≥ the outputs): the slots ≡ r (mod m) form
 * class r, the inputs are cut into d groups of c = S/m (d a power of two dividing m), and class r holds group
 * r mod d. Output i sums the slots of class i, so reading classes i … i + d − 1 (offsets 0 … d − 1) meets every
 * input once: d diagonals and log2(S/m) fold steps, where one input copy needs up to m diagonals. One candidate per
 * m where the groups fit.
 */
export function spreadLayouts(inDim: number, outDim: number, slots: number): { input: SlotLayout; period: number; classes: number }[] {
  const out: { input: SlotLayout; period: number; classes: number }[] = [];
  for (let m = Math.max(1, nextPow2(outDim)); m <= slots; m *= 2) {
    const c = slots / m;
    const d = nextPow2(Math.ceil(inDim / c));
    if (d > m) continue;
    const copies = m / d;
    const input: SlotLayout = {
      length: inDim,
      slots: Array.from({ length: inDim }, (_, j) => {
        const group = Math.floor(j / c);
        const pos = j % c;
        return Array.from({ length: copies }, (_, u) => group + d * u + m * pos);
      }),
    };
    out.push({ input, period: m, classes: d });
  }
  return out;
}

/**
 * A multi-channel convolution on a free input layout (the network input, or after a refresh round): channel c's
 * plane at c·P (P = the plane size rounded up to a power of two), so every output reads its inputs at offsets
 * (c − o)·P + dy·W + dx — a few channel giant steps times the kernel's baby steps. When C·P fills only a part of
 * the slots, the input is replicated R = S/(C·P) times, replica r with its channels rotated by r·C/R, and the outputs
 * fold with period C·P: each slot class then sums a different C/R channels, so a C→C convolution needs (C/R)·kh·kw
 * diagonals instead of C·kh·kw, plus log2(R) fold steps (the hybrid of GAZELLE, on the channel axis). A stride-s
 * convolution keeps its outputs on the input grid: s² output channels share one plane, channel o = s²·q + r at
 * q·P + (s·y + r_y)·W + s·x + r_x, the multiplexed layout of Lee et al.'s HE-MP-CNN, so its offsets stay uniform.
 * Null when the input or output channels do not fit, the strides differ, or two outputs would share a slot.
 */
export function channelStridedLayout(
  g: ConvGeometry,
  slots: number,
): { input: SlotLayout; placement: OutputPlacement; planeStride: number; replicas: number; stride: number } | null {
  const [sh, sw] = g.stride;
  if (sh !== sw) return null;
  const s = sh;
  const P = nextPow2(g.inHeight * g.inWidth);
  const span = g.inChannels * P;
  if (span > slots) return null;
  const replicas = Math.floor(slots / span);
  const shift = Math.floor(g.inChannels / replicas);
  const plane = g.inHeight * g.inWidth;
  const input: SlotLayout = {
    length: g.inChannels * plane,
    slots: Array.from({ length: g.inChannels * plane }, (_, j) => {
      const c = Math.floor(j / plane);
      const pos = j % plane;
      return Array.from({ length: replicas }, (_, r) => r * span + mod(c - r * shift, g.inChannels) * P + pos);
    }),
  };
  const perPlane = s * s;
  const outSpan = Math.ceil(g.outChannels / perPlane) * P;
  if (outSpan > slots) return null; // the output planes do not fit: anchors past the last slot would wrap onto others
  const m = nextPow2(outSpan);
  const anchors = new Int32Array(g.outChannels * g.outHeight * g.outWidth);
  for (let o = 0; o < g.outChannels; o++) {
    const q = Math.floor(o / perPlane);
    const ry = Math.floor((o % perPlane) / s);
    const rx = o % s;
    for (let oy = 0; oy < g.outHeight; oy++)
      for (let ox = 0; ox < g.outWidth; ox++) {
        const y = s * oy + ry;
        const x = s * ox + rx;
        if (y >= g.inHeight || x >= g.inWidth) return null; // an odd plane: the multiplexed slot falls outside it
        anchors[(o * g.outHeight + oy) * g.outWidth + ox] = q * P + y * g.inWidth + x;
      }
  }
  if (new Set(anchors).size !== anchors.length) return null;
  const placement: OutputPlacement = m < slots ? { kind: 'fold', period: m, anchors } : { kind: 'anchored', slots: anchors };
  return { input, placement, planeStride: P, replicas, stride: s };
}

function mod(a: number, n: number): number {
  return ((a % n) + n) % n;
}

function singleCopyLayout(n: number): SlotLayout {
  return { length: n, slots: Array.from({ length: n }, (_, j) => [j]) };
}

/** Input layout + anchored slots for a convolution applied to the network input, replicated once per channel. */
function convReplicatedLayout(
  block: Extract<NetBlock, { kind: 'affine' }>,
  slots: number,
): { input: SlotLayout; anchors: Int32Array } | null {
  const g = block.conv;
  if (!g) return null;
  const plane = g.inHeight * g.inWidth;
  const inSize = g.inChannels * plane;
  const [sh, sw] = g.stride;
  const [ph, pw] = g.padding;
  const need = Math.max(inSize, plane + ph * g.inWidth + pw);
  const period = Math.floor(slots / g.outChannels);
  if (period < need) return null;
  const input: SlotLayout = {
    length: inSize,
    slots: Array.from({ length: inSize }, (_, j) => Array.from({ length: g.outChannels }, (_, o) => o * period + j)),
  };
  const anchors = new Int32Array(g.outChannels * g.outHeight * g.outWidth);
  for (let o = 0; o < g.outChannels; o++)
    for (let oy = 0; oy < g.outHeight; oy++)
      for (let ox = 0; ox < g.outWidth; ox++) {
        const anchor = o * period + (oy * sh - ph) * g.inWidth + (ox * sw - pw);
        anchors[(o * g.outHeight + oy) * g.outWidth + ox] = ((anchor % slots) + slots) % slots;
      }
  if (new Set(anchors).size !== anchors.length) return null;
  return { input, anchors };
}

function packingCost(p: LinearPacking, n: number, level: number, cost: OpCostFn): number {
  return p.rotations * cost('rotate', n, level) + p.plainMultiplications * (cost('mulPlain', n, level) + cost('add', n, level));
}

/** A residual term as emitted: its register (at the main term's output level and scale) and what the report shows. */
interface EmittedSkip {
  output: number;
  detail: Record<string, unknown>;
}

/**
 * The values a later block's residual (skip) term reads — the network input, activation outputs — from where they
 * are produced to their last reader. A refresh round while one is live carries it too (the round invariant: nothing
 * written before a round is read after it), as one more ciphertext of the round; at its reader it is dropped to the
 * main term's level and packed with anchored outputs on the main term's output slots, so the two add slot by slot.
 * Carried through a round right before its last reader, it may be relaid there for free to sit where its reader
 * wants it (for a per-channel identity shortcut: on its outputs' slots, one plaintext product and no rotation).
 */
class SkipValues {
  /** Op indices of the refresh ops that carry residual values. */
  readonly refreshOps = new Set<number>();
  readonly #b: CircuitBuilder;
  readonly #network: NormalisedNetwork;
  readonly #lastUse = new Map<number, number>();
  readonly #bounds = new Map<number, number>();
  readonly #live = new Map<number, { reg: number; layout: SlotLayout; refreshOp?: number }>();

  constructor(b: CircuitBuilder, network: NormalisedNetwork, options: PackOptions) {
    this.#b = b;
    this.#network = network;
    network.blocks.forEach((blk, i) => {
      if (blk.kind === 'affine') for (const t of blk.skips ?? []) this.#lastUse.set(t.from, Math.max(i, this.#lastUse.get(t.from) ?? -1));
    });
    const mask = 2 ** (options.maskBits ?? 0);
    for (const from of this.#lastUse.keys()) {
      const act = network.activations.get(from);
      this.#bounds.set(from, mask * (act ? outputBound(act) : Math.max(1, 1.1 * (options.inputAbsMax ?? 1))));
    }
  }

  /** A value is computed (register, layout): kept while a later block's skip term reads it. */
  produced(source: number, reg: number, layout: SlotLayout): void {
    if (this.#lastUse.has(source)) this.#live.set(source, { reg, layout });
  }

  /** At a round, after its main refresh ops: carry every value read by a block ≥ firstReader (drop the others). */
  carryThroughRound(firstReader: number): void {
    for (const [source, v] of this.#live) {
      if (this.#lastUse.get(source)! < firstReader) {
        this.#live.delete(source);
        continue;
      }
      const reg = this.#b.refresh(v.reg, this.#bounds.get(source)!);
      const op = this.#b.ops.length - 1;
      this.refreshOps.add(op);
      this.#live.set(source, { reg, layout: v.layout, refreshOp: op });
    }
  }

  /** Block i's skip terms on the main term's output layout, at the main term's input level. */
  emit(
    i: number,
    block: Extract<NetBlock, { kind: 'affine' }>,
    level: number,
    outLayout: SlotLayout,
    options: PackOptions,
    relayoutAt: Map<number, Relayout>,
  ): EmittedSkip[] {
    const slots = this.#b.slotCount;
    const N = 2 * slots;
    const anchors = Int32Array.from(outLayout.slots.flat());
    return block.skips!.map((t, k) => {
      const v = this.#live.get(t.from);
      if (!v) throw new CompileError(`internal: ${block.name}'s residual term reads block ${t.from}, which is not live`);
      const last = this.#lastUse.get(t.from) === i;
      const map = expandRows(this.#network.skipMaps[i]![k]!, outLayout);
      const candidates: { input: SlotLayout; label: string }[] = [{ input: v.layout, label: 'as it is' }];
      if (last && v.refreshOp !== undefined && options.relayout !== false) {
        const aligned = alignedLayout(this.#network.skipMaps[i]![k]!, outLayout);
        if (aligned) candidates.push({ input: aligned, label: 'relaid onto its outputs' });
      }
      const plans = candidates.map((c) => planLinear(map, c.input, slots, { kind: 'anchored', slots: anchors }));
      const costs = plans.map((p) => packingCost(p, N, level, options.opCost));
      const best = costs.indexOf(Math.min(...costs));
      if (best > 0) relayoutAt.set(v.refreshOp!, { from: v.layout.slots.map((c) => c[0]!), to: candidates[best]!.input.slots });
      if (last) this.#live.delete(t.from);
      const output = emitLinear(this.#b, this.#b.drop(v.reg, level), map, plans[best]!);
      const from = t.from < 0 ? 'input' : this.#network.blocks[t.from]!.name;
      return {
        output,
        detail: {
          from,
          layout: candidates[best]!.label,
          diagonals: plans[best]!.diagonals.length,
          rotations: plans[best]!.rotations,
          predictedMs: Number(costs[best]!.toFixed(2)),
        },
      };
    });
  }
}

/** A map with row i repeated once per slot of output i's copies (so every copy of every output gets the term). */
function expandRows(map: AffineMap, out: SlotLayout): AffineMap {
  const triplets: [number, number, number][] = [];
  let row = 0;
  out.slots.forEach((copies, i) => {
    for (let c = 0; c < copies.length; c++, row++)
      for (let e = map.rowPtr[i]!; e < map.rowPtr[i + 1]!; e++) triplets.push([row, map.colIdx[e]!, map.values[e]!]);
  });
  return affineFromTriplets(row, map.inDim, triplets);
}

/**
 * A layout putting each input on the slots of one output that reads it (greedy: the first such output no other
 * input took), so a map with at most one input per output — a per-channel identity, a strided 1×1 projection's
 * diagonal — reads it at offset 0. Inputs no output reads get no slot. Null when an input read finds no free output.
 */
function alignedLayout(map: AffineMap, out: SlotLayout): SlotLayout | null {
  const readers = Array.from({ length: map.inDim }, () => [] as number[]);
  for (let r = 0; r < map.outDim; r++) for (let e = map.rowPtr[r]!; e < map.rowPtr[r + 1]!; e++) readers[map.colIdx[e]!]!.push(r);
  const taken = new Set<number>();
  const slots: number[][] = [];
  for (const rows of readers) {
    if (rows.length === 0) {
      slots.push([]);
      continue;
    }
    const r = rows.find((q) => !taken.has(q));
    if (r === undefined) return null;
    taken.add(r);
    slots.push([...out.slots[r]!]);
  }
  return { length: map.inDim, slots };
}
