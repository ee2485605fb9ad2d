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
import { createFitCache, type FitCache } from '../approx/search.js';
import type { Circuit } from '../circuit/index.js';
import type { RangeRule } from '../compiler/calibrate.js';
import { compileNetwork } from '../compiler/compile.js';
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
  if (!Number.isFinite(maxLossPoints) || maxLossPoints < 0)
    throw new StudyError(`max loss must be a number of accuracy points ≥ 0, got ${maxLossPoints}`);
  if (!Number.isInteger(kMin) || !Number.isInteger(kMax) || kMin < 1 || kMax > 40 || kMin > kMax) {
    throw new StudyError(`precision range ${kMin}..${kMax} must be integers with 1 ≤ kMin ≤ kMax ≤ 40`);
  }
  const acts = activationNames(model);
  if (acts.length === 0) throw new StudyError(`model ${model.name} has no activation layers: there is no precision to tune`);
  if (model.layers.some((l) => l.type === 'polynomial')) {
    throw new StudyError(
      `model ${model.name} already has polynomial layers (their precision is fixed); tune the model with its original activations`,
    );
  }
  const data = options.data ?? defaultData(model);
  const methods =
    options.methods ??
    (['auto', 'chebyshev', 'remez', ...(compositeApplies({ activations: acts }) ? ['composite' as const] : [])] as StudyMethod[]);
  if (methods.length === 0) throw new StudyError('no methods to try');
  const fitCache: FitCache = options.fitCache ?? createFitCache();
  const provider = fitterProvider({ cache: fitCache });
  const cal = data.calibration;
  const compile = (ks: number[], method: StudyMethod): Circuit =>
    compileNetwork(model, {
      precisionBits: ks,
      method,
      calibration: { inputs: cal.inputs, count: cal.count, label: cal.name },
      range,
      provider,
      noiseCheck: false, // accuracy is simulated with noise on the splits themselves
    });
  const valRef = floatReference(model, data.validation);
  const simulated = new Map<string, number>();
  const accuracyOf = (c: Circuit, ds: Dataset): number => {
    const key = `${circuitFingerprint(c)}|${ds.name}|${ds.count}`;
    const hit = simulated.get(key);
    if (hit !== undefined) return hit;
    const recs = runSim(c, ds.inputs, ds.count, { noise: { seed: noiseSeed } });
    let correct = 0;
    recs.forEach((r, i) => r.prediction === ds.labels[i] && correct++);
    simulated.set(key, correct / ds.count);
    return correct / ds.count;
  };
  const trials: TuneTrial[] = [];
  let best: { trial: TuneTrial; circuit: Circuit } | null = null;
  const record = (t: TuneTrial) => {
    trials.push(t);
    onProgress?.({ trial: t, trials: trials.length });
    return t;
  };
  /** Compile and (unless it cannot beat the best) evaluate; returns the trial and circuit. */
  const tried = new Map<string, { trial: TuneTrial; circuit?: Circuit }>();
  const evaluate = (ks: number[], method: StudyMethod): { trial: TuneTrial; circuit?: Circuit } => {
    const key = `${method}|${ks.join(',')}`;
    const previous = tried.get(key);
    if (previous) return previous;
    const r = evaluateNew(ks, method);
    tried.set(key, r);
    return r;
  };
  const evaluateNew = (ks: number[], method: StudyMethod): { trial: TuneTrial; circuit?: Circuit } => {
    let circuit: Circuit;
    try {
      circuit = compile(ks, method);
    } catch (err) {
      return { trial: record({ method, ks, status: 'compile-failed', error: errorMessage(err) }) };
    }
    const predictedLatencyMs = circuit.report.predicted.latencyMs;
    if (best && predictedLatencyMs >= best.trial.predictedLatencyMs!) {
      return { trial: record({ method, ks, status: 'skipped', predictedLatencyMs }), circuit };
    }
    const accuracy = accuracyOf(circuit, data.validation);
    const trial = record({ method, ks, status: 'ok', accuracy, lossPoints: 100 * (valRef.accuracy - accuracy), predictedLatencyMs });
    return { trial, circuit };
  };
  const within = (t: TuneTrial) => t.status === 'ok' && t.lossPoints! <= maxLossPoints + 1e-9;
  const layers = acts.length;
  for (const method of methods) {
    // uniform scan upwards
    let start: { trial: TuneTrial; circuit: Circuit } | null = null;
    for (let k = kMin; k <= kMax; k++) {
      const r = evaluate(new Array<number>(layers).fill(k), method);
      if (r.trial.status === 'skipped') break; // higher k only costs more
      if (within(r.trial)) {
        start = { trial: r.trial, circuit: r.circuit! };
        break;
      }
    }
    if (!start) continue;
    if (!best || start.trial.predictedLatencyMs! < best.trial.predictedLatencyMs!) best = start;
    // coordinate descent: lower one layer at a time
    let current = start;
    for (let i = 0; i < layers; i++) {
      while (current.trial.ks[i]! > kMin) {
        const ks = [...current.trial.ks];
        ks[i]!--;
        const r = evaluate(ks, method);
        if (!within(r.trial)) break;
        current = { trial: r.trial, circuit: r.circuit! };
        if (current.trial.predictedLatencyMs! < best.trial.predictedLatencyMs!) best = current;
      }
    }
  }
  if (!best) {
    const measured = trials.filter((t) => t.status === 'ok');
    const closest = measured.length ? measured.reduce((a, b) => (b.lossPoints! < a.lossPoints! ? b : a)) : null;
    throw new StudyError(
      `no setting keeps the validation loss within ${maxLossPoints} points (methods ${methods.join(', ')}, k ${kMin}..${kMax}); ` +
        (closest
          ? `the closest is ${closest.method} k=${closest.ks.join('/')}: validation accuracy ${(100 * closest.accuracy!).toFixed(1)}%, loss ${closest.lossPoints!.toFixed(1)} points`
          : 'no setting compiled'),
    );
  }
  const chosen = best;
  const report = chosen.circuit.report;
  let test: TuneResult['chosen']['test'] = null;
  let testFloat: number | null = null;
  if (data.test) {
    testFloat = floatReference(model, data.test).accuracy;
    const acc = accuracyOf(chosen.circuit, data.test);
    test = { accuracy: acc, lossPoints: 100 * (testFloat - acc) };
  }
  let baseline: TuneResult['baseline'];
  try {
    const b = compile(new Array<number>(layers).fill(baselineK), baselineMethod).report;
    baseline = {
      k: baselineK,
      method: baselineMethod,
      predictedLatencyMs: b.predicted.latencyMs,
      ringDimension: b.ringDimension,
      depth: b.depth,
    };
  } catch (err) {
    baseline = { k: baselineK, method: baselineMethod, error: errorMessage(err) };
  }
  const savedMs = 'predictedLatencyMs' in baseline ? baseline.predictedLatencyMs - report.predicted.latencyMs : null;
  return {
    model: model.name,
    budgetPoints: maxLossPoints,
    floatAccuracy: { validation: valRef.accuracy, test: testFloat },
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
      test,
      ringDimension: report.ringDimension,
      depth: report.depth,
      predictedLatencyMs: report.predicted.latencyMs,
    },
    baseline,
    savedMs,
    savedFraction: savedMs !== null && 'predictedLatencyMs' in baseline ? savedMs / baseline.predictedLatencyMs : null,
    trials,
  };
}
