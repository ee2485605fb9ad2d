/**
 * tuneModel: per activation layer, the lowest precision k (and the method) that keeps the accuracy loss on a
 * validation split within a budget, measured through the `sim` backend with the CKKS noise model; then the
 * latency that setting saves against a uniform high-precision baseline (k = 12).
 *
 * Search (greedy coordinate descent, cheapest first): for each method, scan the uniform k upwards from kMin and
 * stop at the first k within budget; then lower one layer's k at a time while the loss stays within budget.
 * A candidate whose predicted latency cannot beat the best setting found so far is not simulated; identical
 * circuits are simulated once. The chosen setting is finally run on the test split as a holdout.
 */
import { PRECISION_BITS_RANGE, isPrecisionBits } from '../approx/precision.js';
import type { FitCache } from '../approx/search.js';
import type { Circuit } from '../circuit/index.js';
import type { RangeRule } from '../compiler/calibrate.js';
import { compileNetwork, SINGLE_CHAIN } from '../compiler/compile.js';
import { fitterProvider } from '../compiler/polynomialise.js';
import { StudyError, errorMessage } from '../errors.js';
import type { Dataset } from '../nn/dataset.js';
import { headDataset } from '../nn/dataset.js';
import { loadMnistSplit } from '../nn/mnist.js';
import { type Model, shapeSize } from '../nn/model.js';
import { runSim } from '../runtime/inference.js';
import { circuitFingerprint } from './cell-cache.js';
import { compositeApplies, type StudyMethod } from './grid.js';
import { activationNames, floatReference } from './models.js';

/** Options of {@link tuneModel}: the accuracy budget, the precisions and methods to try, the data. */
export interface TuneOptions {
  /** Largest accuracy loss allowed on the validation split, in points (0.5 = half a percentage point). */
  maxLossPoints: number;
  /** Methods to try. @default auto, chebyshev, remez, and composite for ReLU/|x| networks */
  methods?: readonly StudyMethod[];
  /** @default 3 */
  kMin?: number;
  /** @default 14 */
  kMax?: number;
  /** The uniform high-precision baseline the savings are measured against. @default 12 */
  baselineK?: number;
  /** Method of the baseline. @default 'auto' */
  baselineMethod?: StudyMethod;
  /** Calibration, validation and holdout data. @default the MNIST split (train[0:1000], validation, test) */
  data?: { calibration: Dataset; validation: Dataset; test?: Dataset };
  /** How B is chosen from calibration. @default { rule: 'max', margin: 1.1 } */
  range?: RangeRule;
  /** Seed of the simulator's noise. @default 1 */
  noiseSeed?: number;
  /** Shared fit cache. @default a fresh one */
  fitCache?: FitCache;
  onProgress?: (p: TuneProgress) => void;
  /** Finer steps inside a trial (a compile, a simulation's inputs done of total): a trial can take half a minute. */
  onStep?: (step: string, done?: number, total?: number) => void;
}

export interface TuneProgress {
  /** What was just evaluated. */
  trial: TuneTrial;
  trials: number;
}

export interface TuneTrial {
  method: StudyMethod;
  ks: number[];
  status: 'ok' | 'compile-failed' | 'skipped';
  /** ok: validation accuracy and loss (points); skipped: predicted latency cannot beat the best so far. */
  accuracy?: number;
  lossPoints?: number;
  predictedLatencyMs?: number;
  error?: string;
}

export interface TunedLayer {
  layer: number;
  activation: string;
  k: number;
  method: string;
  degrees: number[];
  B: number;
}

/** The cheapest setting within the budget (or the closest one), every trial made, and what it saves against the baseline. */
export interface TuneResult {
  model: string;
  budgetPoints: number;
  floatAccuracy: { validation: number; test: number | null };
  chosen: {
    method: StudyMethod;
    layers: TunedLayer[];
    validation: { accuracy: number; lossPoints: number };
    test: { accuracy: number; lossPoints: number } | null;
    ringDimension: number;
    depth: number;
    predictedLatencyMs: number;
  };
  baseline:
    | { k: number; method: StudyMethod; predictedLatencyMs: number; ringDimension: number; depth: number }
    | { k: number; method: StudyMethod; error: string };
  /** Predicted latency saved against the baseline (ms and fraction), null if the baseline does not compile. */
  savedMs: number | null;
  savedFraction: number | null;
  trials: TuneTrial[];
}

function defaultData(model: Model): NonNullable<TuneOptions['data']> {
  if (shapeSize(model.inputShape) !== 784) {
    throw new StudyError(
      `model ${model.name} takes ${shapeSize(model.inputShape)} inputs, not MNIST digits: there is no calibration split for it (pass calibration and validation data)`,
    );
  }
  return {
    calibration: headDataset(loadMnistSplit('train'), 1000),
    validation: loadMnistSplit('validation'),
    test: loadMnistSplit('test'),
  };
}

/** Tune per-layer precision (see the module comment). */
export function tuneModel(model: Model, options: TuneOptions): TuneResult {
  const { maxLossPoints, kMin = 3, kMax = 14, baselineK = 12, baselineMethod = 'auto', range = {}, noiseSeed = 1, onProgress } = options;
  const acts = checkTunable(model, maxLossPoints, kMin, kMax);
  const data = options.data ?? defaultData(model);
  const methods = options.methods ?? defaultMethods(acts);
  if (methods.length === 0) throw new StudyError('no methods to try');
  const search = new TuneSearch({
    model,
    data,
    range,
    noiseSeed,
    maxLossPoints,
    fitCache: options.fitCache,
    onProgress,
    onStep: options.onStep,
  });
  const layers = acts.length;
  for (const method of methods) {
    const start = scanUniform(search, method, layers, kMin, kMax);
    if (start) lowerLayerByLayer(search, start, kMin);
  }
  if (!search.best) throw noSettingError(search.trials, maxLossPoints, methods, kMin, kMax);
  const chosen = search.best;
  const holdout = data.test ? measureHoldout(search, model, chosen.circuit, data.test) : null;
  const baseline = measureBaseline(search, layers, baselineK, baselineMethod);
  return tuneResult(model, maxLossPoints, search, chosen, holdout, baseline);
}

/** The activation layers of a model that can be tuned, after checking the budget and the precision range. */
function checkTunable(model: Model, maxLossPoints: number, kMin: number, kMax: number): string[] {
  if (!Number.isFinite(maxLossPoints) || maxLossPoints < 0)
    throw new StudyError(`max loss must be a number of accuracy points ≥ 0, got ${maxLossPoints}`);
  if (!isPrecisionBits(kMin) || !isPrecisionBits(kMax) || kMin > kMax) {
    const { min, max } = PRECISION_BITS_RANGE;
    throw new StudyError(`precision range ${kMin}..${kMax} must be integers with ${min} ≤ kMin ≤ kMax ≤ ${max}`);
  }
  const acts = activationNames(model);
  if (acts.length === 0) throw new StudyError(`model ${model.name} has no activation layers: there is no precision to tune`);
  if (model.layers.some((l) => l.type === 'polynomial')) {
    throw new StudyError(
      `model ${model.name} already has polynomial layers (their precision is fixed); tune the model with its original activations`,
    );
  }
  return acts;
}

/** auto, chebyshev, remez, and composite where it applies (ReLU/|x| networks). */
function defaultMethods(acts: string[]): StudyMethod[] {
  return ['auto', 'chebyshev', 'remez', ...(compositeApplies({ activations: acts }) ? ['composite' as const] : [])];
}

/** A compiled (or not compilable) candidate: its trial, and its circuit when it compiled. */
interface Candidate {
  trial: TuneTrial;
  circuit?: Circuit;
}

/** A candidate simulated within budget. */
interface Measured {
  trial: TuneTrial;
  circuit: Circuit;
}

interface TuneSearchSetup {
  model: Model;
  data: NonNullable<TuneOptions['data']>;
  range: RangeRule;
  noiseSeed: number;
  maxLossPoints: number;
  /** Shared fit cache; a fresh one when undefined. */
  fitCache: FitCache | undefined;
  onProgress: TuneOptions['onProgress'];
  onStep: TuneOptions['onStep'];
}

/**
 * The search's memory: compiles and simulates candidates (each setting compiled once, each circuit simulated once
 * per split), records every trial, and keeps the fastest setting within budget found so far.
 */
class TuneSearch {
  readonly trials: TuneTrial[] = [];
  best: Measured | null = null;
  readonly #setup: TuneSearchSetup;
  readonly #provider: ReturnType<typeof fitterProvider>;
  readonly #floatValidation: number;
  readonly #tried = new Map<string, Candidate>();
  readonly #simulated = new Map<string, number>();

  constructor(setup: TuneSearchSetup) {
    this.#setup = setup;
    this.#provider = fitterProvider({ cache: setup.fitCache });
    this.#floatValidation = floatReference(setup.model, setup.data.validation).accuracy;
  }

  /** Float accuracy on the validation split (what the loss is measured against). */
  get floatValidation(): number {
    return this.#floatValidation;
  }

  compile(ks: number[], method: StudyMethod): Circuit {
    const cal = this.#setup.data.calibration;
    this.#setup.onStep?.(`compile ${method} k=${ks.join('/')}`);
    return compileNetwork(this.#setup.model, {
      precisionBits: ks,
      method,
      calibration: { inputs: cal.inputs, count: cal.count, label: cal.name },
      range: this.#setup.range,
      provider: this.#provider,
      noiseCheck: false, // accuracy is simulated with noise on the splits themselves
      refresh: SINGLE_CHAIN,
    });
  }

  /** Accuracy of a circuit on a split, simulated with noise (once per circuit and split). */
  accuracyOf(c: Circuit, ds: Dataset): number {
    const key = `${circuitFingerprint(c)}|${ds.name}|${ds.count}`;
    const hit = this.#simulated.get(key);
    if (hit !== undefined) return hit;
    const onStep = this.#setup.onStep;
    const step = `simulate ${ds.name}`;
    const recs = runSim(c, ds.inputs, ds.count, {
      noise: { seed: this.#setup.noiseSeed },
      ...(onStep ? { onProgress: (d: number, t: number) => onStep(step, d, t) } : {}),
    });
    let correct = 0;
    recs.forEach((r, i) => r.prediction === ds.labels[i] && correct++);
    this.#simulated.set(key, correct / ds.count);
    return correct / ds.count;
  }

  /** Compile and (unless it cannot beat the best) simulate a setting; a setting tried before is not tried again. */
  evaluate(ks: number[], method: StudyMethod): Candidate {
    const key = `${method}|${ks.join(',')}`;
    const previous = this.#tried.get(key);
    if (previous) return previous;
    const r = this.#evaluateNew(ks, method);
    this.#tried.set(key, r);
    return r;
  }

  /** Whether a trial was simulated and kept the loss within budget. */
  within(t: TuneTrial): boolean {
    return t.status === 'ok' && t.lossPoints! <= this.#setup.maxLossPoints + 1e-9;
  }

  /** Keep `m` if it is faster than the best so far. */
  consider(m: Measured): void {
    if (!this.best || m.trial.predictedLatencyMs! < this.best.trial.predictedLatencyMs!) this.best = m;
  }

  #evaluateNew(ks: number[], method: StudyMethod): Candidate {
    let circuit: Circuit;
    try {
      circuit = this.compile(ks, method);
    } catch (err) {
      return { trial: this.#record({ method, ks, status: 'compile-failed', error: errorMessage(err) }) };
    }
    const predictedLatencyMs = circuit.report.predicted.latencyMs;
    if (this.best && predictedLatencyMs >= this.best.trial.predictedLatencyMs!) {
      return { trial: this.#record({ method, ks, status: 'skipped', predictedLatencyMs }), circuit };
    }
    const accuracy = this.accuracyOf(circuit, this.#setup.data.validation);
    const lossPoints = 100 * (this.#floatValidation - accuracy);
    return { trial: this.#record({ method, ks, status: 'ok', accuracy, lossPoints, predictedLatencyMs }), circuit };
  }

  #record(t: TuneTrial): TuneTrial {
    this.trials.push(t);
    this.#setup.onProgress?.({ trial: t, trials: this.trials.length });
    return t;
  }
}

/** The lowest uniform k of a method within budget (scanning upwards from kMin), or null; it becomes the best if faster. */
function scanUniform(search: TuneSearch, method: StudyMethod, layers: number, kMin: number, kMax: number): Measured | null {
  for (let k = kMin; k <= kMax; k++) {
    const r = search.evaluate(new Array<number>(layers).fill(k), method);
    if (r.trial.status === 'skipped') return null; // higher k only costs more
    if (search.within(r.trial)) {
      const start = { trial: r.trial, circuit: r.circuit! };
      search.consider(start);
      return start;
    }
  }
  return null;
}

/** Coordinate descent from `start`: lower one layer's k at a time while the loss stays within budget. */
function lowerLayerByLayer(search: TuneSearch, start: Measured, kMin: number): void {
  let current = start;
  for (let i = 0; i < current.trial.ks.length; i++) {
    while (current.trial.ks[i]! > kMin) {
      const ks = [...current.trial.ks];
      ks[i]!--;
      const r = search.evaluate(ks, current.trial.method);
      if (!search.within(r.trial)) break;
      current = { trial: r.trial, circuit: r.circuit! };
      search.consider(current);
    }
  }
}

/** The error when no setting met the budget, naming the closest simulated one. */
function noSettingError(
  trials: TuneTrial[],
  maxLossPoints: number,
  methods: readonly StudyMethod[],
  kMin: number,
  kMax: number,
): StudyError {
  const measured = trials.filter((t) => t.status === 'ok');
  const closest = measured.length ? measured.reduce((a, b) => (b.lossPoints! < a.lossPoints! ? b : a)) : null;
  return new StudyError(
    `no setting keeps the validation loss within ${maxLossPoints} points (methods ${methods.join(', ')}, k ${kMin}..${kMax}); ` +
      (closest
        ? `the closest is ${closest.method} k=${closest.ks.join('/')}: validation accuracy ${(100 * closest.accuracy!).toFixed(1)}%, loss ${closest.lossPoints!.toFixed(1)} points`
        : 'no setting compiled'),
  );
}

interface Holdout {
  floatAccuracy: number;
  result: NonNullable<TuneResult['chosen']['test']>;
}

/** The chosen circuit on the test split, against the float model there. */
function measureHoldout(search: TuneSearch, model: Model, circuit: Circuit, test: Dataset): Holdout {
  const floatAccuracy = floatReference(model, test).accuracy;
  const accuracy = search.accuracyOf(circuit, test);
  return { floatAccuracy, result: { accuracy, lossPoints: 100 * (floatAccuracy - accuracy) } };
}

/** The uniform baseline's cost, or why it does not compile. */
function measureBaseline(search: TuneSearch, layers: number, k: number, method: StudyMethod): TuneResult['baseline'] {
  try {
    const b = search.compile(new Array<number>(layers).fill(k), method).report;
    return { k, method, predictedLatencyMs: b.predicted.latencyMs, ringDimension: b.ringDimension, depth: b.depth };
  } catch (err) {
    return { k, method, error: errorMessage(err) };
  }
}

function tuneResult(
  model: Model,
  maxLossPoints: number,
  search: TuneSearch,
  chosen: Measured,
  holdout: Holdout | null,
  baseline: TuneResult['baseline'],
): TuneResult {
  const report = chosen.circuit.report;
  const savedMs = 'predictedLatencyMs' in baseline ? baseline.predictedLatencyMs - report.predicted.latencyMs : null;
  return {
    model: model.name,
    budgetPoints: maxLossPoints,
    floatAccuracy: { validation: search.floatValidation, test: holdout?.floatAccuracy ?? null },
    chosen: {
      method: chosen.trial.method,
      layers: report.activations.map((a, i) => ({
        layer: a.layer,
        activation: a.activation,
        k: chosen.trial.ks[i]!,
        method: a.method,
        degrees: a.degree,
        B: a.B,
      })),
      validation: { accuracy: chosen.trial.accuracy!, lossPoints: chosen.trial.lossPoints! },
      test: holdout?.result ?? null,
      ringDimension: report.ringDimension,
      depth: report.depth,
      predictedLatencyMs: report.predicted.latencyMs,
    },
    baseline,
    savedMs,
    savedFraction: savedMs !== null && 'predictedLatencyMs' in baseline ? savedMs / baseline.predictedLatencyMs : null,
    trials: search.trials,
  };
}
