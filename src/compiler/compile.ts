/**
 * compileNetwork: a trained model and a precision setting become a CKKS circuit. Plan first, execute later:
 * fold → calibrate → polynomialise → choose parameters → pack and emit every layer with its levels and
 * scales fixed → select rotation keys → report. Nothing here touches SEAL.
 */
import { type Activation, parseActivation } from '../approx/activations.js';
import { measureMaxError } from '../approx/max-error.js';
import type { PolynomialApproximation } from '../approx/polynomial.js';
import type { Model } from '../nn/model.js';
import { shapeSize } from '../nn/model.js';
import { type AffineMap, scaleColumns, scaleRows } from './affine.js';
import { CircuitBuilder } from './builder.js';
import { calibrateRanges, countOutsideRange, type RangeRule } from './calibrate.js';
import type { ActivationReport, Circuit, CircuitMode, CircuitStage, CompileReport, SlotLayout } from './circuit.js';
import { countOps } from './circuit.js';
import { CompileError } from './errors.js';
import { foldModel, type NetBlock } from './fold.js';
import { type OpCostFn, measuredOpCost, predictOpsMs } from './latency.js';
import { type LinearPacking, emitLinear, planLinear } from './pack-linear.js';
import { type CircuitActivation, emitActivation, normaliseApproximation } from './poly-eval.js';
import { estimateNoise } from '../runtime/noise.js';
import { predictSizes } from '../ckks/cost-model.js';
import { selectParameters } from './select-params.js';
import { emitThroughputNetwork } from './throughput.js';

export type ApproximationMethod = 'remez' | 'chebyshev' | 'composite' | 'auto';

/** What the fitter returns for one activation. */
export interface ProvidedApproximation {
  approximation: PolynomialApproximation;
  /** Max |f(x) − p(x)| over [−B, B], in the activation's units. */
  maxError: number;
  /** Where it came from (catalog file, fitted on the fly, stored in the model). */
  source: string;
}

/** Finds the approximation of `activation` on [−B, B] with error ≤ B·2^−k (normalised precision k). */
export type ApproximationProvider = (req: {
  activation: Activation;
  B: number;
  precisionBits: number;
  method: ApproximationMethod;
}) => ProvidedApproximation;

export interface CompileOptions {
  /** Precision k: every activation's max error ≤ B·2^−k on [−B, B]; a number, or one per activation layer. */
  precisionBits: number | readonly number[];
  /** @default 'auto' (cheapest by depth, then multiplications) */
  method?: ApproximationMethod;
  /** Calibration inputs (count × input size, back to back) and a label for the report. */
  calibration: { inputs: Float64Array; count: number; label: string };
  /** How B is chosen from the calibration ranges. @default { rule: 'max', margin: 1.1 } */
  range?: RangeRule;
  /** Bits of the CKKS scale (fixed). @default the largest the chosen ring holds, at least minimumScaleBits(k) */
  scaleBits?: number;
  /** Ring dimensions to consider, ascending. @default [4096, 8192, 16384, 32768] */
  ringDimensions?: readonly number[];
  /** Fits approximations (the fitter, or the catalog). Required when the model has catalog activations. */
  provider?: ApproximationProvider;
  /** Per-op costs for packing choices and the latency prediction. @default measuredOpCost (bench/op-costs.json) */
  opCost?: OpCostFn;
  /**
   * Packing of linear layers: 'auto' keeps the cheaper by the op-cost model; 'fold' forces the generic fold
   * (a convolution as a dense Toeplitz matrix), so a benchmark can measure both.
   * @default 'auto'
   */
  packing?: 'auto' | 'fold';
  /**
   * 'latency': one input per ciphertext (rotations pack the linear layers); 'throughput': one ciphertext per input
   * value with slot b holding input b — N/2 inputs per evaluation, no rotations (see throughput.ts).
   * @default 'latency'
   */
  mode?: CircuitMode;
  /** Which Galois keys the circuit may use (see BuilderParams.rotationKeys). @default 'exact' */
  rotationKeys?: 'exact' | 'powers-of-two';
  /** Circuit name. @default model.name */
  name?: string;
  /**
   * Simulate this many calibration inputs with and without CKKS noise and report the logit error and flipped
   * predictions (report.noise; a note when they may change more than NOISE_FLIP_NOTE); false skips it.
   * @default { inputs: 200 }
   */
  noiseCheck?: { inputs: number } | false;
  onProgress?: (stage: string) => void;
}

/** Above this expected share of predictions changed by CKKS noise (1 in 1000), the report carries a note. */
export const NOISE_FLIP_NOTE = 1e-3;

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

interface PlannedActivation {
  block: number;
  activation: CircuitActivation;
  report: Omit<ActivationReport, 'depth'>;
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

/** Compile a model into a circuit. */
export function compileNetwork(model: Model, options: CompileOptions): Circuit {
  const {
    precisionBits,
    method = 'auto',
    calibration,
    range = {},
    ringDimensions,
    provider,
    opCost = measuredOpCost,
    onProgress,
    mode = 'latency',
  } = options;
  const name = options.name ?? model.name;
  const inDim = shapeSize(model.inputShape);

  onProgress?.('fold');
  const blocks = foldModel(model);
  const activationBlocks = blocks.flatMap((b, i) => (b.kind === 'activation' ? [i] : []));
  const perLayerK = typeof precisionBits === 'number' ? activationBlocks.map(() => precisionBits) : [...precisionBits];
  if (perLayerK.length !== activationBlocks.length) {
    throw new CompileError(`${perLayerK.length} precisions given for ${activationBlocks.length} activation layers`);
  }
  for (const k of perLayerK) {
    if (!Number.isFinite(k) || k < 1 || k > 40) throw new CompileError(`precision k=${k} must be in 1..40`);
  }

  onProgress?.('calibrate');
  const cal = calibrateRanges(blocks, calibration.inputs, calibration.count, inDim, range);

  onProgress?.('polynomialise');
  const planned: PlannedActivation[] = activationBlocks.map((bi, n) => {
    const block = blocks[bi] as Extract<NetBlock, { kind: 'activation' }>;
    const r = cal.ranges.find((x) => x.block === bi)!;
    const k = perLayerK[n]!;
    let provided: ProvidedApproximation;
    let B = r.B;
    if (block.approximation) {
      // a PANN's own polynomial: its interval is its range; its error is measured against the activation it stands for
      B = block.approximation.interval[1];
      provided = {
        approximation: block.approximation,
        maxError: storedPolynomialError(block.approximation),
        source: 'model polynomial layer',
      };
    } else {
      if (!provider) throw new CompileError(`activation ${block.activation!.toString()} needs an approximation provider`);
      provided = provider({ activation: block.activation!, B, precisionBits: k, method });
    }
    const act = normaliseApproximation(provided.approximation, B, block.activation ? block.activation.homogeneity : null);
    return {
      block: bi,
      activation: act,
      report: {
        layer: block.layer,
        activation: block.activation ? block.activation.toString() : provided.approximation.activation,
        method: provided.approximation.method,
        B,
        precisionBits: k,
        degree: provided.approximation.stages.map((s) => s.coefficients.length - 1),
        maxError: provided.maxError,
        log2Error: Math.log2(provided.maxError / B),
        outsideFraction: r.outsideFraction, // recomputed below against the B actually used
        source: provided.source,
      },
    };
  });

  // the fraction of calibration inputs outside the [-B, B] actually used (a PANN's own range may be narrower)
  const outsideStats = countOutsideRange(
    blocks,
    calibration.inputs,
    calibration.count,
    inDim,
    planned.map((p) => p.report.B),
  );
  planned.forEach((p, n) => (p.report.outsideFraction = outsideStats[n]!.outside / Math.max(1, outsideStats[n]!.total)));

  // fold 1/B (times the activation's input multiplier) into the affine block before each activation and μ into the one after it
  const maps: (AffineMap | null)[] = blocks.map((b) => (b.kind === 'affine' ? b.map : null));
  for (const p of planned) {
    const before = blocks[p.block - 1];
    if (!before || before.kind !== 'affine') {
      throw new CompileError(`activation ${blocks[p.block]!.name} follows another activation; insert a linear layer between them`);
    }
    maps[p.block - 1] = scaleRows(maps[p.block - 1]!, p.activation.inputMultiplier / p.report.B);
    const after = maps[p.block + 1];
    if (!after) throw new CompileError(`activation ${blocks[p.block]!.name} must be followed by a linear layer`);
    maps[p.block + 1] = scaleColumns(after, p.activation.outputMultiplier);
  }

  const depthPerStage = blocks.map((b, i) => (b.kind === 'affine' ? 1 : planned.find((p) => p.block === i)!.activation.depth));
  const depth = depthPerStage.reduce((a, b) => a + b, 0);
  const kMax = Math.max(...perLayerK, 1);
  const minScale = options.scaleBits ?? minimumScaleBits(kMax);
  const maxScale = options.scaleBits ?? Math.max(40, minScale);
  // the first prime holds the output: |logit|·Δ plus noise must stay below q_0/2
  const headroomBits = Math.max(6, Math.ceil(Math.log2(1.25 * cal.outputAbsMax + 1)) + 4);
  const widest = mode === 'throughput' ? 1 : Math.max(inDim, ...blocks.map((b) => (b.kind === 'affine' ? nextPow2(b.map.outDim) : b.size)));

  const notes: string[] = [];
  onProgress?.('parameters');
  const params = selectParameters({
    depth,
    minScaleBits: minScale,
    maxScaleBits: maxScale,
    headroomBits,
    minSlots: widest,
    ...(ringDimensions ? { candidates: ringDimensions } : {}),
  });
  const N = params.polyModulusDegree;
  const slots = N / 2;
  const scaleBits = params.scaleBits;
  notes.push(
    `scale 2^${scaleBits}: the largest N=${N} holds at depth ${depth} (at least ${minScale} bits for precision ${kMax}); CKKS noise about 2^-${scaleBits - Math.log2(N) + 2} per rescale`,
  );
  const builder = new CircuitBuilder({
    dataPrimes: params.primeValues.slice(0, -1),
    dataPrimeBits: params.coeffModulusBits.slice(0, -1),
    slotCount: slots,
    baseScale: 2 ** scaleBits,
    rotationKeys: options.rotationKeys ?? 'exact',
  });

  onProgress?.('pack');
  const inputScale = builder.canonical(builder.maxLevel);
  const emitted =
    mode === 'throughput'
      ? (() => {
          const inputs = Array.from({ length: inDim }, () => builder.input(inputScale));
          const acts = new Map(planned.map((p) => [p.block, p.activation]));
          const { outputs, stages } = emitThroughputNetwork(builder, blocks, maps, acts, inputs);
          const registers = (regs: number[]): SlotLayout => ({ length: regs.length, slots: regs.map((r) => [r]) });
          return { inputLayout: registers(inputs), outputLayout: registers(outputs), outputs, stages };
        })()
      : emitLatency();
  const { inputLayout, outputLayout, stages } = emitted;
  const x = emitted.outputs[0]!;
  for (const r of emitted.outputs) if (builder.level[r]! < 0) throw new CompileError('internal: circuit ran out of levels');

  /** Latency packing: one input per ciphertext, linear layers packed with rotations. */
  function emitLatency(): { inputLayout: SlotLayout; outputLayout: SlotLayout; outputs: number[]; stages: CircuitStage[] } {
    let x = builder.input(inputScale);
    let layout: SlotLayout | null = null;
    let inputLayout: SlotLayout | null = null;
    const stages: CircuitStage[] = [];
    blocks.forEach((b, i) => {
      const first = builder.ops.length;
      const levelIn = builder.level[x]!;
      let detail: Record<string, unknown>;
      if (b.kind === 'affine') {
        const map = maps[i]!;
        const candidates: { input: SlotLayout; pack: LinearPacking; label: string }[] = [];
        const fold = (inL: SlotLayout) => planLinear(map, inL, slots, { kind: 'fold', period: Math.max(1, nextPow2(map.outDim)) });
        if (layout === null) {
          const single = singleCopyLayout(inDim);
          candidates.push({ input: single, pack: fold(single), label: 'fold (single input copy)' });
          const conv = convReplicatedLayout(b, slots);
          if (conv) {
            candidates.push({
              input: conv.input,
              pack: planLinear(map, conv.input, slots, { kind: 'anchored', slots: conv.anchors }),
              label: 'conv (input replicated per channel, anchored outputs)',
            });
          }
        } else {
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
        const costs = candidates.map((c) => packingCost(c.pack, N, levelIn, opCost));
        let best = costs.indexOf(Math.min(...costs));
        if (options.packing === 'fold') best = 0; // forced (benchmarks measure both packings)
        const chosen = candidates[best]!;
        if (layout === null) inputLayout = chosen.input;
        x = emitLinear(builder, x, map, chosen.pack);
        layout = chosen.pack.outLayout;
        detail = {
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
      } else {
        const p = planned.find((q) => q.block === i)!;
        x = emitActivation(builder, x, p.activation);
        detail = {
          activation: p.report.activation,
          B: p.report.B,
          degrees: p.report.degree,
          method: p.report.method,
          ctMultiplications: p.activation.plans.reduce((s, q) => s + q.cost.ctMultiplications, 0),
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
    if (builder.level[x]! < 0) throw new CompileError('internal: circuit ran out of levels');
    if (!inputLayout || !layout) throw new CompileError('internal: no layout');
    return { inputLayout, outputLayout: layout as SlotLayout, outputs: [x], stages };
  }

  onProgress?.('report');
  const ops = builder.ops;
  const registerLevel = Int32Array.from(builder.level);
  const registerScale = Float64Array.from(builder.scales);
  const rotationSteps = [...builder.rotationSteps].sort((a, b) => a - b);
  const counts = countOps(ops);
  const perStageMs = stages.map((s) => ({
    name: s.name,
    ms: predictOpsMs(ops, registerLevel, N, opCost, s.ops[0], s.ops[1]),
  }));
  const encryptMs =
    (opCost('encryptSymmetric', N, builder.maxLevel) + opCost('encode', N, builder.maxLevel)) * (mode === 'throughput' ? inDim : 1);
  const decryptMs = opCost('decrypt', N, builder.level[x]!) * emitted.outputs.length;
  const sz = predictSizes({ polyModulusDegree: N, coeffModulusBits: params.coeffModulusBits }, rotationSteps);
  const sizes = {
    ciphertextBytes: sz.ciphertext[sz.ciphertext.length - 1]!,
    seededCiphertextBytes: sz.seededCiphertext,
    outputCiphertextBytes: sz.ciphertext[builder.level[x]!]!,
    relinKeyBytes: sz.seededRelinKeys,
    galoisKeyBytes: sz.seededGaloisKeys ?? 0,
    evaluationKeyUploadBytes: sz.evaluationKeyUpload,
  };
  for (const p of planned) {
    if (p.report.outsideFraction > 0) {
      notes.push(
        `layers[${p.report.layer}]: ${(100 * p.report.outsideFraction).toFixed(3)}% of calibration inputs fall outside [-B, B] (B=${p.report.B.toPrecision(4)}): the polynomial is not accurate there`,
      );
    }
  }
  const report: CompileReport = {
    model: model.name,
    mode,
    batchSize: mode === 'throughput' ? slots : 1,
    depth,
    depthPerStage: blocks.map((b, i) => ({ name: b.name, depth: depthPerStage[i]! })),
    ringDimension: N,
    coeffModulusBits: params.coeffModulusBits,
    totalModulusBits: params.totalBits,
    maxModulusBits: params.maxTotalBits,
    scaleBits,
    slots,
    opCounts: counts,
    opCountsPerStage: stages.map((s) => ({ name: s.name, ...countOps(ops, s.ops[0], s.ops[1]) })),
    rotationSteps,
    activations: planned.map((p) => ({ ...p.report, depth: p.activation.depth })),
    predicted: {
      ...sizes,
      latencyMs: encryptMs + decryptMs + perStageMs.reduce((s, p) => s + p.ms, 0),
      latencyMsPerStage: [{ name: 'encode+encrypt', ms: encryptMs }, ...perStageMs, { name: 'decrypt+decode', ms: decryptMs }],
    },
    calibration: {
      count: calibration.count,
      split: calibration.label,
      marginRule: `${range.rule ?? 'max'} × ${range.margin ?? 1.1}${range.rule === 'percentile' ? ` (p${range.percentile ?? 99.9})` : ''}`,
    },
    notes,
  };
  const circuit: Circuit = {
    name,
    mode,
    params: {
      polyModulusDegree: N,
      coeffModulusBits: params.coeffModulusBits,
      primes: params.primes,
      primeValues: params.primeValues,
      scaleBits,
    },
    inputScale,
    inputLayout,
    inputMultiplier: 1,
    inputRange: inputRangeOf(calibration.inputs),
    outputRegister: x,
    outputLayout,
    outputRegisters: emitted.outputs,
    outputMultiplier: 1,
    registerCount: builder.registerCount(),
    registerLevel,
    registerScale,
    plaintexts: builder.plaintexts,
    ops,
    rotationSteps,
    stages,
    report,
  };
  const check = options.noiseCheck ?? { inputs: 200 };
  if (check) {
    if (!Number.isInteger(check.inputs) || check.inputs < 1)
      throw new CompileError(`noiseCheck.inputs must be an integer ≥ 1, got ${check.inputs}`);
    onProgress?.('noise');
    const n = Math.min(check.inputs, calibration.count, mode === 'throughput' ? slots : Infinity);
    if (n >= 1) {
      const noise = estimateNoise(circuit, calibration.inputs.subarray(0, n * inDim), n);
      report.noise = noise;
      if (noise.flips > 0 || noise.expectedFlipRate > NOISE_FLIP_NOTE) {
        notes.push(
          `CKKS noise (simulated on ${n} calibration inputs): logits move by ${noise.rmsLogitError.toPrecision(2)} RMS, ` +
            `${noise.maxLogitError.toPrecision(2)} at most; about ${(100 * noise.expectedFlipRate).toPrecision(2)}% of predictions may differ ` +
            `from the exact circuit's (near-ties: the median top-two gap is ${noise.medianTopTwoGap.toPrecision(2)}; ${noise.flips} of ${n} did here). ` +
            `More scale bits need a larger ring (--ring ${2 * N}).`,
        );
      }
    }
  }
  return circuit;
}

/** Measured max error of a model's polynomial layer against its activation (NaN if the activation is unknown). */
function storedPolynomialError(a: PolynomialApproximation): number {
  try {
    const act = parseActivation(a.activation);
    return measureMaxError((x) => act.f(x), a).maxError;
  } catch {
    return NaN;
  }
}

function inputRangeOf(v: Float64Array): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const x of v) {
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  return [lo, hi];
}
