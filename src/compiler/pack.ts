/**
 * Pack pass: the normalised network becomes circuit ops, block by block, with every level and scale fixed by the
 * builder. Latency mode (one input per ciphertext): each affine block picks the cheapest packing by the op-cost
 * model (pack-linear.ts: a generic fold, or anchored outputs for a convolution on the replicated input image),
 * each activation is evaluated by its plan (poly-eval.ts). Throughput mode: throughput.ts.
 */
import type { OpCostFn } from '../ckks/params/index.js';
import type { CircuitBuilder, CircuitMode, CircuitOp, CircuitStage, Relayout, SlotLayout } from '../circuit/index.js';
import type { NetBlock } from './fold.js';
import type { NormalisedNetwork } from './normalise.js';
import { type LinearPacking, emitLinear, planLinear } from './pack-linear.js';
import { emitActivation } from './poly-eval.js';
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
  network.blocks.forEach((b, i) => {
    const first = builder.ops.length;
    const rounds = options.refresh?.filter((r) => r.block === i) ?? [];
    const before = rounds.find((r) => !r.inner);
    // a refresh round belongs to the block it feeds: fresh at the top level, then down to the level where the
    // schedule starts this segment (a segment shorter than the chain runs on fewer primes, so every op is cheaper)
    if (before) {
      freeAt = builder.ops.length;
      x = builder.refresh(x, before.maskBounds[0]!);
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
      if (layout === null) inputLayout = linear.input;
      else if (linear.input !== layout) {
        const from = layout.slots.map((copies) => copies[0]!);
        relayoutAt.set(freeAt!, { from, to: linear.input.slots });
        linear.detail['relayout'] = true;
      }
      freeAt = null;
      x = linear.output;
      layout = linear.outLayout;
      detail = linear.detail;
    } else {
      const p = planned.find((q) => q.block === i)!;
      const act = network.activations.get(i)!;
      x = emitActivation(builder, x, act, inner);
      for (let k = builder.ops.length - 1; k >= first; k--)
        if (builder.ops[k]!.op === 'refresh') {
          freeAt = k;
          break;
        }
      detail = {
        activation: p.report.activation,
        B: p.report.B,
        degrees: p.report.degree,
        method: p.report.method,
        ctMultiplications: act.plans.reduce((s, q) => s + q.cost.ctMultiplications, 0),
      };
    }
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
  const relayouts = [...relayoutAt].map(([at, r]) => ({ round: roundOfOp(builder.ops, at), ...r }));
  return { inputLayout, outputLayout: layout, outputs: [x], stages, spans: stages.map((_, i) => [i, i]), relayouts };
}

/** The 0-based refresh round the refresh op at `at` belongs to (consecutive refresh ops form one round). */
function roundOfOp(ops: readonly CircuitOp[], at: number): number {
  let round = -1;
  for (let k = 0; k <= at; k++) if (ops[k]!.op === 'refresh' && (k === 0 || ops[k - 1]!.op !== 'refresh')) round++;
  return round;
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
  const candidates: { input: SlotLayout; pack: LinearPacking; label: string }[] = [];
  const fold = (inL: SlotLayout) => planLinear(map, inL, slots, { kind: 'fold', period: Math.max(1, nextPow2(map.outDim)) });
  if (layout !== null) {
    candidates.push({ input: layout, pack: fold(layout), label: 'fold' });
    if (map.outDim === map.inDim) {
      const anchors = Int32Array.from(layout.slots, (c) => c[0]!);
      candidates.push({
        input: layout,
        pack: planLinear(map, layout, slots, { kind: 'anchored', slots: anchors }),
        label: 'anchored in place',
      });
    }
  }
  if (layout === null || free) {
    const single = singleCopyLayout(map.inDim);
    candidates.push({ input: single, pack: fold(single), label: 'fold (single input copy)' });
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
  }
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
