/**
 * One cell of a precision study, measured: (optionally fine-tune the network with its polynomial stand-ins,)
 * compile it at the cell's precision, method, range rule and scale, run the whole measured split through the
 * `sim` backend with the CKKS noise model, and record accuracy, loss against the float network, agreement with
 * its predictions, the fraction of activation inputs outside [−B, B], and the compiled cost. The SEAL spot check
 * (real encryption on a few digits: agreement with the simulator, measured latency) is a separate, later step.
 */
import type { Activation } from '../approx/activations.js';
import type { FitCache } from '../approx/search.js';
import { compileNetwork, SINGLE_CHAIN } from '../compiler/compile.js';
import type { Circuit } from '../circuit/index.js';
import { countOutsideRange } from '../compiler/calibrate.js';
import { foldModel } from '../compiler/fold.js';
import { fitterProvider } from '../compiler/polynomialise.js';
import { PannError, errorMessage } from '../errors.js';
import { finetunePolynomial } from '../nn/finetune.js';
import { modelFromJSON, serializeModel } from '../nn/model-file.js';
import { type Model, shapeSize } from '../nn/model.js';
import { runSim } from '../runtime/inference.js';
import { runSeal } from '../runtime/seal-inference.js';
import { type CellCache, circuitFingerprint, codeVersion } from './cell-cache.js';
import type { CellCost, CellResult, CellStage, SealCheck } from './cell-result.js';
import type { StudyCell, StudySettings } from './grid.js';
import { type StudyModels, floatReference } from './models.js';

/** What measuring a cell needs (one per thread). */
export interface CellDeps {
  models: StudyModels;
  settings: StudySettings;
  fitCache: FitCache;
  /** Fine-tuned models are stored here (key + '.model.json') so later steps reuse them. @default none */
  cache?: CellCache | null;
  /** Code version (cell-cache.ts codeVersion), part of the key of shared simulations. @default codeVersion() */
  code?: string;
}

function stageError(stage: CellStage, err: unknown): { stage: CellStage; code: string; message: string } {
  return { stage, code: err instanceof PannError ? err.code : 'internal', message: errorMessage(err) };
}

/** Deterministic failures (PannErrors) are results to keep; anything else is a crash of that cell. */
export function isCacheable(result: CellResult): boolean {
  return result.status !== 'failed' || (result.error !== undefined && result.error.code !== 'internal');
}

interface Prepared {
  model: Model;
  circuit: Circuit;
  finetune?: CellResult['finetune'];
  finetuneMs: number;
  compileMs: number;
  notes: string[];
}

const finetuned = new Map<string, Model>();
/** Simulated predictions by circuit fingerprint, split, count and noise seed (this thread's share of the cache). */
const simulated = new Map<string, Int32Array>();

function readPredictions(text: string | null, count: number): Int32Array | null {
  if (!text) return null;
  try {
    const p = (JSON.parse(text) as { predictions?: unknown }).predictions;
    return Array.isArray(p) && p.length === count && p.every((x) => Number.isInteger(x)) ? Int32Array.from(p as number[]) : null;
  } catch {
    return null;
  }
}

/** The cell's network: the model itself, or (remedy finetune) its fine-tuned polynomial version, cached by key. */
function cellModel(cell: StudyCell, key: string, deps: CellDeps): { model: Model; info?: CellResult['finetune']; ms: number } {
  const base = deps.models.get(cell.model.path).model;
  if (cell.remedy !== 'finetune') return { model: base, ms: 0 };
  const memo = finetuned.get(key);
  if (memo) return { model: memo, info: memo.metadata.studyFinetune as CellResult['finetune'], ms: 0 };
  const stored = deps.cache?.readText(key, '.model.json');
  if (stored) {
    try {
      const model = modelFromJSON(JSON.parse(stored));
      finetuned.set(key, model);
      return { model, info: model.metadata.studyFinetune as CellResult['finetune'], ms: 0 };
    } catch {
      // unreadable: fine-tune again
    }
  }
  const t0 = performance.now();
  const s = deps.settings;
  const train = deps.models.split('train', 8000);
  const validation = deps.models.split('validation', 1000);
  // the stand-ins are the compiler's own fits (on [−B, B], error ≤ B·2^−k), so fine-tuning sees what encryption will
  const provider = fitterProvider({ cache: deps.fitCache });
  const standIn = (activation: Activation, B: number) =>
    provider({ activation, B, precisionBits: cell.k, method: cell.method }).approximation;
  const r = finetunePolynomial(base, standIn, {
    train,
    validation,
    epochs: s.finetune.epochs,
    learningRate: s.finetune.learningRate,
    seed: s.finetune.seed,
    range: s.finetune.range,
    margin: cell.range.margin,
    ...(cell.range.rule === 'percentile' ? { percentile: cell.range.percentile } : {}),
  });
  const ms = performance.now() - t0;
  const poly = r.model;
  const info = {
    validationBefore: r.before?.polynomial ?? NaN,
    validationAfter: floatReference(poly, validation).accuracy,
    accuracy: floatReference(poly, deps.models.split(s.split, s.count)).accuracy,
    bounds: r.bounds,
    ms,
  };
  poly.metadata = { ...poly.metadata, studyFinetune: info };
  finetuned.set(key, poly);
  deps.cache?.writeText(key, '.model.json', serializeModel(poly, { dtype: 'float64' }));
  return { model: poly, info, ms };
}

function prepare(cell: StudyCell, key: string, deps: CellDeps, onStage: (s: CellStage) => void): Prepared {
  onStage('finetune');
  const { model, info, ms } = cellModel(cell, key, deps);
  onStage('compile');
  const t0 = performance.now();
  const cal = deps.models.split('train', deps.settings.calibration);
  const circuit = compileNetwork(model, {
    precisionBits: cell.k,
    method: cell.method,
    calibration: { inputs: cal.inputs, count: cal.count, label: deps.settings.data ? cal.name : `mnist train[0:${cal.count}]` },
    range: { rule: cell.range.rule, margin: cell.range.margin, percentile: cell.range.percentile },
    ...(cell.scaleBits !== 'auto' ? { scaleBits: cell.scaleBits } : {}),
    // the cell simulates its whole test split with noise itself
    noiseCheck: false,
    refresh: SINGLE_CHAIN,
    provider: fitterProvider({
      cache: deps.fitCache,
      ...(cell.remedy === 'asymmetric' ? { weight: { negative: deps.settings.asymmetricWeight, positive: 1 } } : {}),
    }),
  });
  return {
    model,
    circuit,
    ...(info ? { finetune: info } : {}),
    finetuneMs: ms,
    compileMs: performance.now() - t0,
    notes: circuit.report.notes,
  };
}

function costOf(c: Circuit): CellCost {
  const r = c.report;
  return {
    activations: r.activations.map((a) => ({ method: a.method, degrees: a.degree, B: a.B, log2Error: a.log2Error, depth: a.depth })),
    depth: r.depth,
    ringDimension: r.ringDimension,
    coeffModulusBits: r.coeffModulusBits,
    totalModulusBits: r.totalModulusBits,
    scaleBits: r.scaleBits,
    rotations: r.opCounts.rotations,
    rotationKeys: r.rotationSteps.length,
    ctMultiplications: r.opCounts.ctMultiplications,
    plainMultiplications: r.opCounts.plainMultiplications,
    predictedLatencyMs: r.predicted.latencyMs,
    galoisKeyBytes: r.predicted.galoisKeyBytes,
  };
}

/** Why a compiled cell is not simulated under the study's limits (null: it is). */
export function simulationLimit(cost: CellCost, s: StudySettings): string | null {
  if (cost.ringDimension > s.maxSimulatedRing) return `N=${cost.ringDimension} is above the study's maxSimulatedRing ${s.maxSimulatedRing}`;
  if (s.maxSimulatedLatencyMs !== null && cost.predictedLatencyMs > s.maxSimulatedLatencyMs) {
    return `predicted latency ${Math.round(cost.predictedLatencyMs)} ms is above the study's maxSimulatedLatencyMs ${s.maxSimulatedLatencyMs}`;
  }
  const degree = Math.max(...cost.activations.flatMap((a) => a.degrees));
  if (s.maxSimulatedDegree !== null && degree > s.maxSimulatedDegree) {
    return `a degree-${degree} polynomial is above the study's maxSimulatedDegree ${s.maxSimulatedDegree}`;
  }
  return null;
}

/** Measure a cell in the simulator. Never throws for a cell's own failure: the result says `failed` and why. */
export function measureCell(cell: StudyCell, key: string, deps: CellDeps, onStage: (s: CellStage) => void = () => {}): CellResult {
  const t0 = performance.now();
  const timing = { finetuneMs: 0, compileMs: 0, simMs: 0, totalMs: 0 };
  const base: CellResult = { id: cell.id, key, cell, status: 'failed', timing, notes: [] };
  let stage: CellStage = 'load';
  const enter = (s: CellStage) => {
    stage = s;
    onStage(s);
  };
  try {
    const s = deps.settings;
    const m = deps.models.get(cell.model.path);
    base.model = { name: m.model.name, activations: m.facts.activations, architecture: m.model.layers.map((l) => l.type).join('-') };
    const ref = deps.models.reference(cell.model.path, s.split, s.count);
    base.float = { accuracy: ref.accuracy, correct: ref.correct, count: ref.predictions.length };
    const p = prepare(cell, key, deps, enter);
    timing.finetuneMs = p.finetuneMs;
    timing.compileMs = p.compileMs;
    if (p.finetune) base.finetune = p.finetune;
    base.notes = [...p.notes];
    base.cost = costOf(p.circuit);
    const skip = simulationLimit(base.cost, s);
    if (skip) {
      base.status = 'costed';
      base.notes.push(`not simulated: ${skip}`);
      timing.totalMs = performance.now() - t0;
      return base;
    }
    enter('simulate');
    const ds = deps.models.split(s.split, s.count);
    const t1 = performance.now();
    const simKey = `sim-${circuitFingerprint(p.circuit)}-${s.split}-${s.count}-${s.noiseSeed}-${deps.code ?? codeVersion()}`;
    let predictions = simulated.get(simKey) ?? readPredictions(deps.cache?.readText(simKey, '.json') ?? null, ds.count);
    if (predictions) base.notes.push('simulation shared with an identical circuit');
    else {
      predictions = Int32Array.from(runSim(p.circuit, ds.inputs, ds.count, { noise: { seed: s.noiseSeed } }), (r) => r.prediction);
      deps.cache?.writeText(simKey, '.json', `${JSON.stringify({ predictions: [...predictions] })}\n`);
    }
    simulated.set(simKey, predictions);
    timing.simMs = performance.now() - t1;
    let correct = 0;
    let agree = 0;
    predictions.forEach((q, i) => {
      if (q === ds.labels[i]) correct++;
      if (q === ref.predictions[i]) agree++;
    });
    const accuracy = correct / ds.count;
    base.pann = { accuracy, correct, count: ds.count, lossPoints: 100 * (ref.accuracy - accuracy), agreement: agree / ds.count };
    const outside = countOutsideRange(
      foldModel(p.model),
      ds.inputs,
      ds.count,
      shapeSize(p.model.inputShape),
      p.circuit.report.activations.map((a) => a.B),
    ).map((o) => (o.total ? o.outside / o.total : 0));
    base.outside = { perLayer: outside, max: Math.max(...outside) };
    base.status = 'ok';
  } catch (err) {
    base.error = stageError(stage, err);
  }
  timing.totalMs = performance.now() - t0;
  return base;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2]! : 0.5 * (s[n / 2 - 1]! + s[n / 2]!);
}

/** A spot check with nothing measured yet. */
export function emptySealCheck(sample: number): SealCheck {
  return {
    sample,
    agreeWithSim: 0,
    agreeWithFloat: 0,
    correct: 0,
    maxLogitDifference: NaN,
    latencyMs: { median: NaN, min: NaN, max: NaN },
    setupMs: NaN,
  };
}

/**
 * SEAL spot check of a measured cell: recompile it (deterministic), run the first `sample` digits in real
 * encryption and in the simulator (same noise seed), and compare. Returns the result with `seal` set (with
 * `error` if encryption failed); a failed cell is returned unchanged.
 */
export async function spotCheckCell(result: CellResult, sample: number, deps: CellDeps): Promise<CellResult> {
  if (result.status !== 'ok' || sample < 1) return result;
  const cell = result.cell;
  const s = deps.settings;
  const n = Math.min(sample, s.count);
  const check = emptySealCheck(n);
  try {
    const p = prepare(cell, result.key, deps, () => {});
    const ds = deps.models.split(s.split, n);
    const ref = deps.models.reference(cell.model.path, s.split, s.count);
    const sim = runSim(p.circuit, ds.inputs, n, { noise: { seed: s.noiseSeed } });
    const seal = await runSeal(p.circuit, ds.inputs, n);
    check.setupMs = seal.setup.reduce((a, x) => a + x.ms, 0);
    const lat = seal.records.map((r) => r.timings.reduce((a, t) => a + t.ms, 0));
    check.latencyMs = { median: median(lat), min: Math.min(...lat), max: Math.max(...lat) };
    let diff = 0;
    seal.records.forEach((r, i) => {
      if (r.prediction === sim[i]!.prediction) check.agreeWithSim++;
      if (r.prediction === ref.predictions[i]) check.agreeWithFloat++;
      if (r.prediction === ds.labels[i]) check.correct++;
      for (let j = 0; j < r.logits.length; j++) diff = Math.max(diff, Math.abs(r.logits[j]! - sim[i]!.logits[j]!));
    });
    check.maxLogitDifference = diff;
  } catch (err) {
    check.error = errorMessage(err);
  }
  return { ...result, seal: check };
}

/** A unit of work for a study thread: measure a cell in the simulator, or spot-check a measured one in SEAL. */
export type CellTask = { mode: 'sim'; cell: StudyCell; key: string } | { mode: 'seal'; result: CellResult; sample: number };

/** Run a task and store a cacheable result under its key. */
export async function runCellTask(task: CellTask, deps: CellDeps, onStage?: (s: CellStage) => void): Promise<CellResult> {
  const result =
    task.mode === 'sim' ? measureCell(task.cell, task.key, deps, onStage) : await spotCheckCell(task.result, task.sample, deps);
  if (deps.cache && isCacheable(result)) deps.cache.write(result.key, result);
  return result;
}
