/**
 * compileNetwork: a trained model and a precision setting become a CKKS circuit. Plan first, execute later — the
 * driver is a table of contents, one module per pass, each deciding one thing:
 *
 *   1. fold           fold.ts           layers → alternating affine blocks and activations
 *   2. calibrate      calibrate.ts      each activation's input range [−B, B]
 *   3. polynomialise  polynomialise.ts  each activation's polynomial on its range, to precision k (with -m auto and
 *                                       a refresh search, the composite stand-ins too: their stages can be split)
 *   4. normalise      normalise.ts      polynomials on t = x/B, scalings folded into the linear layers; depth
 *   5. parameters     refresh-points.ts the client-aided refresh placements to try (the caller's, or the fewest
 *                                       rounds for each chain depth); steps 5–9 run for each, and the one with
 *                                       the lowest predicted latency whose noise passes a short screen is kept
 *                     select-params.ts  ring, modulus chain and scale (128-bit) for the longest segment
 *   6. schedule       schedule.ts       the level each block starts and ends at (each segment at the level it needs)
 *   7. pack           pack.ts           ops with every level and scale fixed (pack-linear, poly-eval, throughput)
 *   8. keys           keys.ts           exactly the rotation keys the ops use
 *   9. report         report.ts         counts, sizes, predicted latency, notes
 *  10. verify         src/circuit       the replay check the loader applies
 *  11. noise          (injected)        CKKS noise simulated on calibration inputs, when the caller gives an estimator
 *
 * Nothing here touches SEAL, and nothing imports the runtime: the noise estimator is passed in (src/pipeline.ts
 * composes the compiler with the runtime's).
 */
import type { Model } from '../nn/model.js';
import { shapeSize } from '../nn/model.js';
import { modelSha256, valuesSha256 } from '../nn/fingerprint.js';
import { LayerPrecision } from '../approx/precision.js';
import { type OpCostFn, measuredOpCost, predictSizes } from '../ckks/params/index.js';
import {
  type Circuit,
  type CircuitMode,
  type NoiseEstimator,
  CircuitBuilder,
  type RefreshSearchReport,
  type RotationKeySet,
  verifyCircuit,
} from '../circuit/index.js';
import { calibrateRanges, type RangeRule } from './calibrate.js';
import { CompileError } from './errors.js';
import { PannError } from '../errors.js';
import { foldModel } from './fold.js';
import { selectRotationKeys } from './keys.js';
import { type NormalisedNetwork, normaliseNetwork } from './normalise.js';
import { packNetwork } from './pack.js';
import {
  type ApproximationMethod,
  type ApproximationProvider,
  type PolynomialActivation,
  polynomialiseActivations,
} from './polynomialise.js';
import { compileReport } from './report.js';
import {
  DEFAULT_LINK,
  depthUnits,
  describeLink,
  type LinkModel,
  pointLabel,
  type RefreshOptions,
  type RefreshPlan,
  refreshCandidates,
} from './refresh-points.js';
import { blockLevels, chainDepth, checkSchedule, scheduleLevels } from './schedule.js';
import { chooseParameters } from './select-params.js';

export type { ApproximationMethod, ApproximationProvider } from './polynomialise.js';
export { minimumScaleBits } from './select-params.js';
export { DEFAULT_MASK_BITS, parseLink, type RefreshAt, type RefreshOptions, SINGLE_CHAIN } from './refresh-points.js';

/** Options of {@link compileNetwork}. */
export interface CompileOptions {
  /** Precision k: every activation's max error ≤ B·2^−k on [−B, B]; a number, or one per activation layer. */
  precisionBits: number | readonly number[];
  /** @default 'auto' (cheapest by depth, then multiplications) */
  method?: ApproximationMethod;
  /**
   * Composite stand-ins: no sign stage deeper than this (PrecisionOptions.compositeStageDepth). With `auto` and a
   * placement search, the depth of the shallow composites compared. @default none (auto's search: 3)
   */
  compositeStageDepth?: number;
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
  /**
   * Which Galois keys the circuit may use (see BuilderOptions.rotationKeys).
   * @default 'exact', within galoisKeyMemory (beyond it: the most used steps exact, the others as ±2^i sums)
   */
  rotationKeys?: RotationKeySet;
  /** Bytes of Galois keys (in SEAL's memory) a default key set may take. @default GALOIS_KEY_MEMORY */
  galoisKeyMemory?: number;
  /**
   * Client-aided refresh rounds (docs/refresh.md): listed, or placed where they lower the predicted latency.
   * @default the search, at most one round per activation layer, over DEFAULT_LINK
   */
  refresh?: RefreshOptions;
  /** Circuit name. @default model.name */
  name?: string;
  /**
   * Simulate `inputs` calibration inputs with and without CKKS noise through `estimate` and report the logit error
   * and flipped predictions (report.noise; a note when they may change more than NOISE_FLIP_NOTE).
   * @default false (src/pipeline.ts's compile passes the runtime's estimator on 200 inputs)
   */
  noiseCheck?: NoiseCheck | false;
  /** Each pass as it starts; the noise check also with inputs simulated so far (done of total). */
  onProgress?: (stage: string, done?: number, total?: number) => void;
}

/** How the compile measures its circuit's CKKS noise. */
export interface NoiseCheck {
  /** Calibration inputs to simulate (at most the calibration count; in throughput mode at most N/2). */
  inputs: number;
  estimate: NoiseEstimator;
}

/** Above this expected share of predictions changed by CKKS noise (1 in 1000), the report carries a note. */
export const NOISE_FLIP_NOTE = 1e-3;

/** Compile a model into a circuit (see the module comment for the passes). */
export function compileNetwork(model: Model, options: CompileOptions): Circuit {
  const { calibration, range = {}, opCost = measuredOpCost, onProgress, mode = 'latency' } = options;
  const inputSize = shapeSize(model.inputShape);

  onProgress?.('fold');
  const blocks = foldModel(model);
  if (mode === 'throughput' && blocks.some((b) => b.kind === 'affine' && b.skips)) {
    throw new CompileError(
      `model ${model.name} has residual connections; throughput mode compiles chains of layers only (use latency mode)`,
    );
  }
  const layers = blocks.filter((b) => b.kind === 'activation').length;
  const precision = LayerPrecision.of(options.precisionBits, layers, (message) => new CompileError(message));

  onProgress?.('calibrate');
  const calibrated = calibrateRanges(blocks, calibration.inputs, calibration.count, inputSize, range);

  onProgress?.('polynomialise');
  const families = polynomialiseFamilies(blocks, calibrated, precision, options, mode);

  onProgress?.('parameters');
  const link = options.refresh?.link ?? DEFAULT_LINK;
  const shared = { model, precision, calibrated, calibration, range, opCost, mode, inputSize, link, options };
  const circuit = searchPlacements(families, shared, onProgress);

  onProgress?.('verify');
  verifyCircuit(circuit);

  if (options.noiseCheck) {
    onProgress?.('noise');
    addNoiseEstimate(circuit, calibration, options.noiseCheck, onProgress && ((d, t) => onProgress('noise', d, t)));
  }
  return circuit;
}

/** One approximation method's network: its polynomials, and the network with them normalised in. */
interface Family {
  method: ApproximationMethod;
  /** How the placement comparison names it: the method, and for shallow composites their stage depth. */
  label: string;
  planned: readonly PolynomialActivation[];
  network: NormalisedNetwork;
}

/** An approximation method the search compares, with composite stages no deeper than `stageDepth` if given. */
interface MethodChoice {
  method: ApproximationMethod;
  stageDepth?: number;
}

/**
 * The networks of each method the search compares (methodFamilies); an extra method that does not apply is left
 * out, and so is one whose polynomials are those of a family before it.
 */
function polynomialiseFamilies(
  blocks: ReturnType<typeof foldModel>,
  calibrated: ReturnType<typeof calibrateRanges>,
  precision: LayerPrecision,
  options: CompileOptions,
  mode: CircuitMode,
): Family[] {
  const { method = 'auto', provider, calibration } = options;
  const seen = new Set<string>();
  return methodFamilies(method, options, mode).flatMap((m, i) => {
    try {
      const planned = polynomialiseActivations(blocks, calibrated, {
        precision,
        method: m.method,
        ...(m.stageDepth !== undefined ? { compositeStageDepth: m.stageDepth } : {}),
        ...(provider ? { provider } : {}),
        calibration,
      });
      const same = JSON.stringify(planned.map((p) => [p.report.method, p.report.degree]));
      if (seen.has(same)) return [];
      seen.add(same);
      const label = m.stageDepth !== undefined ? `${m.method} (stages of depth ≤ ${m.stageDepth})` : m.method;
      return [{ method: m.method, label, planned, network: normaliseNetwork(blocks, planned) }];
    } catch (err) {
      if (i === 0 || !(err instanceof PannError)) throw err; // the first is what was asked for
      return []; // the extra family does not apply to these activations
    }
  });
}

/** Every family's refresh placements (refresh-points.ts), built, then the cheapest that passes the noise screen. */
function searchPlacements(
  families: readonly Family[],
  shared: Omit<BuildContext, 'network' | 'planned'>,
  onProgress: CompileOptions['onProgress'],
): Circuit {
  const { options, precision, mode, calibration } = shared;
  const candidates = families.flatMap((f) => refreshCandidates(f.network, precision, options.refresh, mode).map((plan) => ({ plan, f })));
  const built = candidates.map(({ plan, f }, n) => {
    onProgress?.('pack', n, candidates.length);
    return buildOrReason({ ...shared, network: f.network, planned: f.planned }, plan, plan.placement === 'auto');
  });
  const labels = candidates.map((c) => (families.length > 1 ? c.f.label : undefined));
  const screen = options.noiseCheck ? noiseScreen(calibration, options.noiseCheck) : undefined;
  const plans = candidates.map((c) => c.plan);
  return cheapest(built, plans, options.refresh, shared.link, screen, labels);
}

/** Deepest stage of the shallow composites the search also compares: degree ≤ 7, so a stage fits a 3-level segment. */
const SHALLOW_STAGE_DEPTH = 3;

/**
 * The approximation methods whose networks the placement search compares. With `auto` and rounds allowed, also the
 * composite stand-ins: a single polynomial is one part no round can split, while a composite's stages can each
 * end a segment (at k = 12 the cheapest single ReLU has depth 10, the composite's parts 4, 4 and 5) — and
 * composites of more, shallower stages (depth ≤ 3: 3∘5∘7∘7∘7 at k = 12), whose segments fit the short chains of
 * a small ring. Only when the compile simulates noise: short segments land on small rings with small scales, and
 * composite stages amplify CKKS noise enough there to compute garbage, which only the noise screen sees.
 */
function methodFamilies(method: ApproximationMethod, options: CompileOptions, mode: CircuitMode): MethodChoice[] {
  const { refresh } = options;
  const searching = mode === 'latency' && refresh?.before === undefined && refresh?.maxRounds !== 0;
  const stageDepth = options.compositeStageDepth;
  if (method === 'auto' && searching && options.noiseCheck) {
    return [{ method: 'auto' }, { method: 'composite' }, { method: 'composite', stageDepth: stageDepth ?? SHALLOW_STAGE_DEPTH }];
  }
  return [stageDepth !== undefined ? { method, stageDepth } : { method }];
}

/** What every candidate placement is built from. */
interface BuildContext {
  model: Model;
  network: NormalisedNetwork;
  planned: readonly PolynomialActivation[];
  precision: LayerPrecision;
  calibrated: ReturnType<typeof calibrateRanges>;
  calibration: CompileOptions['calibration'];
  range: RangeRule;
  opCost: OpCostFn;
  mode: CircuitMode;
  inputSize: number;
  link: LinkModel;
  options: CompileOptions;
}

/** The circuit for one refresh placement, or — when candidates are compared — why it does not compile. */
function buildOrReason(ctx: BuildContext, plan: RefreshPlan, comparing: boolean): Circuit | string {
  try {
    return buildCircuit(ctx, plan);
  } catch (err) {
    if (comparing && err instanceof CompileError) return err.message;
    throw err;
  }
}

/**
 * Galois keys a circuit may ask SEAL to hold (in memory, unseeded). node-seal's WASM heap stops just under 4 GB: a
 * ResNet on N = 32768 uses about 80 distinct rotation steps, 58 MB each at 10 primes. The ciphertexts of one
 * evaluation need a few hundred MB; plaintexts past the executor's heap ceiling wait outside the heap as bytes and
 * are loaded on use (1.1 ms for a 2.6 MB plaintext against 17.6 ms to encode it), so the keys may take most of the
 * heap. Above this, the most used steps keep their own key and the others become sums of ±2^i steps.
 */
export const GALOIS_KEY_MEMORY = 2.5 * 2 ** 30;

/**
 * The circuit for one refresh placement, with exact rotation keys unless they would not fit GALOIS_KEY_MEMORY: then
 * built again with a key for ±2^i and for as many of the most used steps as fit (unless the caller chose the keys).
 */
function buildCircuit(ctx: BuildContext, plan: RefreshPlan): Circuit {
  const circuit = buildCircuitWith(ctx, plan, ctx.options.rotationKeys ?? 'exact');
  if (ctx.options.rotationKeys !== undefined) return circuit;
  const { params } = circuit;
  const perKey = predictSizes(params, [1]).galoisKeys ?? 0;
  const budget = ctx.options.galoisKeyMemory ?? GALOIS_KEY_MEMORY;
  if (perKey * circuit.rotationSteps.length <= budget) return circuit;
  const uses = new Map<number, number>();
  for (const op of circuit.ops) if (op.op === 'rotate') uses.set(op.steps, (uses.get(op.steps) ?? 0) + 1);
  const slots = params.slotCount;
  const base = new Set<number>();
  for (let p = 1; p < slots; p *= 2) base.add(p).add(slots - p);
  const room = Math.floor(budget / perKey) - base.size;
  const exact = [...uses]
    .filter(([s]) => !base.has(s))
    .sort((a, b) => b[1] - a[1] || a[0] - b[0])
    .slice(0, Math.max(0, room))
    .map(([s]) => s);
  const fitted = buildCircuitWith(ctx, plan, { exact });
  fitted.report.notes.push(
    `rotation keys: ${circuit.rotationSteps.length} distinct steps would need ${((perKey * circuit.rotationSteps.length) / 2 ** 30).toFixed(1)} GiB of ` +
      `Galois keys in SEAL's memory; ${exact.length} most used steps keep their own key, the others are sums of ±2^i steps ` +
      `(${fitted.rotationSteps.length} keys, ${((perKey * fitted.rotationSteps.length) / 2 ** 30).toFixed(1)} GiB; --rotation-keys exact forces one key per step)`,
  );
  return fitted;
}

/** Ring and chain for the longest segment, levels, ops, keys and report: the circuit for one refresh placement. */
function buildCircuitWith(ctx: BuildContext, plan: RefreshPlan, rotationKeys: RotationKeySet): Circuit {
  const { model, network, planned, mode, inputSize, opCost, calibration, range, options } = ctx;
  const units = depthUnits(network);
  const refreshBefore = new Set(plan.points.map((p) => p.unit));
  const chain = chainDepth(units.depths, refreshBefore);
  const { params, note } = chooseParameters(network, {
    precision: ctx.precision,
    outputAbsMax: ctx.calibrated.outputAbsMax,
    inputSize,
    mode,
    depth: chain.depth,
    maskBound: Math.max(0, ...plan.points.flatMap((p) => p.maskBounds)),
    ...(options.scaleBits !== undefined ? { scaleBits: options.scaleBits } : {}),
    ...(options.ringDimensions ? { ringDimensions: options.ringDimensions } : {}),
  });
  const unitLevels = scheduleLevels(units.depths, params.maxLevel, refreshBefore);
  const schedule = blockLevels(unitLevels, units.block, network.blocks.length);
  const builder = new CircuitBuilder(params, { rotationKeys });
  const packed = packNetwork(builder, network, planned, {
    mode,
    inputSize,
    opCost,
    packing: options.packing ?? 'auto',
    refresh: plan.points.map((p) => ({ ...p, level: unitLevels[p.unit]!.levelIn })),
    startLevel: unitLevels[0]!.levelIn,
    relayout: options.refresh?.relayout ?? true,
    maskBits: plan.maskBits,
    inputAbsMax: Math.max(...inputRangeOf(calibration.inputs).map(Math.abs)),
  });
  checkSchedule(schedule, packed.stages, packed.spans);
  const rotationSteps = selectRotationKeys(builder);
  const registerLevel = Int32Array.from(builder.level);
  const reportInput = { modelName: model.name, mode, params, network, planned, builder, packed, rotationSteps, registerLevel };
  const refresh = { plan, segmentDepths: chain.segments };
  const report = compileReport({ ...reportInput, inputSize, opCost, calibration, range, notes: [note], refresh, link: ctx.link });
  return {
    name: options.name ?? model.name,
    mode,
    params,
    inputScale: builder.canonical(builder.maxLevel),
    inputLayout: packed.inputLayout,
    inputMultiplier: 1,
    inputRange: inputRangeOf(calibration.inputs),
    ...outputsOf(packed),
    registerCount: builder.registerCount(),
    registerLevel,
    registerScale: Float64Array.from(builder.scales),
    plaintexts: builder.plaintexts,
    ops: builder.ops,
    ...(packed.relayouts?.length ? { relayouts: packed.relayouts } : {}),
    rotationSteps,
    stages: packed.stages,
    report,
    source: circuitSource(model, calibration, inputSize),
  };
}

/**
 * The candidate with the lowest predicted latency whose CKKS noise passes the screen (fewer rounds on a tie), with
 * the comparison in its report; when none compiles, an error naming why each did not. When every candidate fails
 * the screen, the least noisy (the noise check's note then says how much).
 */
function cheapest(
  built: (Circuit | string)[],
  plans: readonly RefreshPlan[],
  request: RefreshOptions | undefined,
  link: LinkModel,
  screen?: (c: Circuit) => { rejected: string | null; flipRate: number },
  methods: readonly (string | undefined)[] = [],
): Circuit {
  const considered: RefreshSearchReport['considered'] = built.map((c, n) => {
    const points = plans[n]!.points.map(pointLabel);
    const method = methods[n] !== undefined ? { method: methods[n] } : {};
    if (typeof c === 'string') return { points, ...method, rejected: c };
    return {
      points,
      ...method,
      ringDimension: c.params.polyModulusDegree,
      levels: c.params.maxLevel,
      latencyMs: c.report.predicted.latencyMs,
    };
  });
  const order = built
    .flatMap((c, n) => (typeof c === 'string' ? [] : [n]))
    .sort((a, b) => considered[a]!.latencyMs! - considered[b]!.latencyMs!);
  if (order.length === 0) throw noPlacement(considered, plans, request);
  let best = -1;
  let quietest = { n: order[0]!, flipRate: Infinity };
  for (const n of order) {
    const verdict = order.length > 1 && screen ? screen(built[n] as Circuit) : { rejected: null, flipRate: 0 };
    if (verdict.rejected === null) {
      best = n;
      break;
    }
    considered[n]!.rejected = verdict.rejected;
    if (verdict.flipRate < quietest.flipRate) quietest = { n, flipRate: verdict.flipRate };
  }
  const chosen = built[best >= 0 ? best : quietest.n] as Circuit;
  if (built.length > 1) chosen.report.refreshSearch = { link: describeLink(link), maxRounds: request?.maxRounds ?? null, considered };
  return chosen;
}

/** The error when no placement compiles: the single chain's reason, and each placement's. */
function noPlacement(
  considered: RefreshSearchReport['considered'],
  plans: readonly RefreshPlan[],
  request: RefreshOptions | undefined,
): CompileError {
  const single = considered[0]!.rejected!;
  if (plans.length === 1 && request?.maxRounds !== 0) return new CompileError(single);
  const rounds = considered.slice(1).map((c) => `rounds at ${c.points.join(', ')}: ${c.rejected}`);
  return new CompileError(
    plans.length === 1
      ? `${single} (--max-rounds 0 forbids client-aided refresh rounds, which would split the network into shorter segments)`
      : [`no refresh placement compiles. As one chain: ${single}`, ...rounds].join('; '),
  );
}

/** Calibration inputs a placement's noise screen simulates (the full noise check runs on the chosen one). */
const SCREEN_INPUTS = 32;

/**
 * Above this expected share of changed predictions a placement is passed over (CKKS noise at its scale): the share
 * at which the noise check adds a note, so the search does not choose a circuit the compile then warns about.
 */
const SCREEN_FLIP_RATE = NOISE_FLIP_NOTE;

/**
 * The noise screen of a candidate: a short noise check. A faster placement is worthless if its scale is too small
 * for its polynomials (a smaller ring allows smaller primes; CKKS noise grows through high-degree stages).
 */
function noiseScreen(calibration: CompileOptions['calibration'], check: NoiseCheck) {
  return (c: Circuit) => {
    const inputSize = calibration.inputs.length / calibration.count;
    const n = Math.min(SCREEN_INPUTS, check.inputs, calibration.count);
    const e = check.estimate(c, calibration.inputs.subarray(0, n * inputSize), n);
    const flipRate = Number.isFinite(e.maxLogitError) ? e.expectedFlipRate : 1;
    if (flipRate <= SCREEN_FLIP_RATE) return { rejected: null, flipRate };
    return {
      rejected: `CKKS noise at scale 2^${c.params.scaleBits}: about ${(100 * flipRate).toPrecision(2)}% of predictions would change (simulated on ${n} calibration inputs)`,
      flipRate,
    };
  };
}

/** Where the outputs sit (the decoded values are the logits: multiplier 1). */
function outputsOf(packed: ReturnType<typeof packNetwork>) {
  return { outputRegister: packed.outputs[0]!, outputLayout: packed.outputLayout, outputRegisters: packed.outputs, outputMultiplier: 1 };
}

/** What the circuit was compiled from: the model's identity and the calibration inputs'. */
function circuitSource(model: Model, calibration: CompileOptions['calibration'], inputSize: number): NonNullable<Circuit['source']> {
  const used = calibration.inputs.subarray(0, calibration.count * inputSize);
  return {
    model: { name: model.name, sha256: modelSha256(model) },
    calibration: { label: calibration.label, count: calibration.count, sha256: valuesSha256(used) },
  };
}

/**
 * Simulate the circuit on its first calibration inputs with and without noise (through the injected estimator)
 * and store the estimate in the report, with a note when predictions may change more than NOISE_FLIP_NOTE.
 */
function addNoiseEstimate(
  circuit: Circuit,
  calibration: CompileOptions['calibration'],
  check: NoiseCheck,
  onProgress?: (done: number, total: number) => void,
): void {
  if (!Number.isInteger(check.inputs) || check.inputs < 1) {
    throw new CompileError(`noiseCheck.inputs must be an integer ≥ 1, got ${check.inputs}`);
  }
  const inputSize = calibration.inputs.length / calibration.count;
  const n = Math.min(check.inputs, calibration.count, circuit.mode === 'throughput' ? circuit.params.slotCount : Infinity);
  if (n < 1) return;
  const noise = check.estimate(circuit, calibration.inputs.subarray(0, n * inputSize), n, onProgress);
  circuit.report.noise = noise;
  if (noise.flips > 0 || noise.expectedFlipRate > NOISE_FLIP_NOTE) {
    circuit.report.notes.push(
      `CKKS noise (simulated on ${n} calibration inputs): logits move by ${noise.rmsLogitError.toPrecision(2)} RMS, ` +
        `${noise.maxLogitError.toPrecision(2)} at most; about ${(100 * noise.expectedFlipRate).toPrecision(2)}% of predictions may differ ` +
        `from the exact circuit's (near-ties: the median top-two gap is ${noise.medianTopTwoGap.toPrecision(2)}; ${noise.flips} of ${n} did here). ` +
        `More scale bits need a larger ring (--ring ${2 * circuit.params.polyModulusDegree}).`,
    );
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
