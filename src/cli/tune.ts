/**
 * `pann tune <model> --max-loss 0.5`: per activation layer the lowest precision k (and method) that keeps the
 * validation-split accuracy loss within the budget (sim backend with noise), compiled and compared with a uniform
 * k = 12 baseline.
 */
import { Command } from 'commander';
import { InputError, StudyError } from '../errors.js';
import { checkOutputPath } from '../files.js';
import { trainingData } from '../nn/data-source.js';
import { headDataset } from '../nn/dataset.js';
import type { Model } from '../nn/model.js';
import { COMPILE_DEFAULTS, type CompileFlags, compileWithProgress, saveCompiled } from './compile.js';
import { STUDY_METHODS, type StudyMethod } from '../study/grid.js';
import { type TuneResult, type TuneTrial, tuneModel } from '../study/tune.js';
import { loadModelOrOnnx } from './load-model.js';
import { action, intOption, numberOption, precisionOption, printJson, ProgressBar } from './common.js';
import {
  addDataOptions,
  DATA_HELP,
  type DataFlags,
  dataFlagsArgs,
  dataFlagsOf,
  dataSpecFromFlags,
  withModelDataset,
} from './data-options.js';

interface TuneFlags extends DataFlags {
  maxLoss?: number;
  methods?: string[];
  kMin: number;
  kMax: number;
  baselineK: number;
  noiseSeed: number;
  out?: string;
  json?: boolean;
  quiet?: boolean;
}

export function registerTune(program: Command): void {
  addDataOptions(program.command('tune'))
    .description('find the lowest precision per activation layer that keeps the accuracy loss within a budget')
    .argument('<model>', 'trained model (pann-model JSON)')
    .option(
      '--max-loss <points>',
      'largest validation accuracy loss allowed, in points (0.5 = half a percentage point)',
      numberOption('--max-loss', 0, 100),
    )
    .option(
      '-m, --methods <list...>',
      'methods to try (default: auto, chebyshev, remez, and composite for ReLU)',
      (v: string, prev: string[] | undefined) => [...(prev ?? []), ...v.split(',').filter(Boolean)],
    )
    .option('--k-min <k>', 'lowest precision tried', precisionOption('--k-min'), 3)
    .option('--k-max <k>', 'highest precision tried', precisionOption('--k-max'), 14)
    .option('--baseline-k <k>', 'uniform precision the latency saving is measured against', precisionOption('--baseline-k'), 12)
    .option('--noise-seed <n>', "seed of the sim backend's noise", intOption('--noise-seed', 0, 2 ** 31 - 1), 1)
    .option(
      '-o, --out <circuit.json>',
      'compile the chosen setting and write its circuit here (the printed `pann compile` command does the same)',
    )
    .option('--json', 'print the result as JSON on stdout')
    .option('-q, --quiet', 'no progress output')
    .addHelpText(
      'after',
      `
Every candidate is compiled and run on the 1000-digit validation split through the sim backend (CKKS noise on);
the chosen setting is then run on the test split as a holdout. Candidates that cannot beat the best latency
found so far are not simulated. Calibration takes the first 1000 samples of the train part.
${DATA_HELP}

Examples:
  $ pann tune models/mnist-cnn-relu.json --max-loss 0.5 --out circuits/cnn-relu-tuned.json
  $ pann tune models/mnist-cnn-ulu.json --max-loss 1 -m remez --json`,
    )
    .action(action('tune', tuneCommand));
}

/** `pann tune`: search the precisions, print each candidate as it is tried, then the chosen setting (and its circuit). */
function tuneCommand(file: string, flags: TuneFlags): void {
  if (flags.maxLoss === undefined) throw new InputError('--max-loss <points> is required (e.g. 0.5)');
  const out = flags.out ? checkOutputPath(flags.out, { label: '--out', extensions: ['.json'] }) : null;
  const methods = flags.methods?.map(studyMethod);
  const model = loadModelOrOnnx(file);
  const quiet = !!flags.quiet || !!flags.json;
  const bar = new ProgressBar('tune', { quiet });
  const spec = dataSpecFromFlags(withModelDataset(flags, model.metadata));
  const own = spec.source.kind === 'mnist' ? null : trainingData(spec, model.inputShape);
  const r = tuneModel(model, {
    ...(own
      ? { data: { calibration: headDataset(own.train, 1000), validation: own.validation, ...(own.test ? { test: own.test } : {}) } }
      : {}),
    maxLossPoints: flags.maxLoss,
    ...(methods ? { methods } : {}),
    kMin: flags.kMin,
    kMax: flags.kMax,
    baselineK: flags.baselineK,
    noiseSeed: flags.noiseSeed,
    onProgress: ({ trial, trials: n }) => {
      if (!quiet) process.stderr.write(`tune #${n}: ${trial.method} k=${trial.ks.join('/')}: ${trialOutcome(trial)}\n`);
    },
    onStep: (step, done, total) => (done !== undefined && total !== undefined ? bar.update(done, total, step) : bar.note(step)),
  });
  bar.done();
  const data = dataFlagsOf(flags);
  const command = compileCommand(file, r, flags.out ?? 'circuit.json', data);
  if (out) writeTunedCircuit(model, { ...chosenFlags(r), ...data, quiet }, r, file, out);
  if (flags.json) {
    printJson({ ...r, compileCommand: command, out: flags.out ?? null });
    return;
  }
  process.stdout.write(`${tuneReport(r).join('\n')}\n  reproduce: ${command}\n${flags.out ? `wrote ${flags.out}\n` : ''}`);
}

/**
 * The `pann compile` flags of the chosen setting (tune calibrates and picks B as compile does by default). Tune
 * prices single-chain circuits, so the command asks for one (--max-rounds 0).
 */
function chosenFlags(r: TuneResult): CompileFlags {
  return { ...COMPILE_DEFAULTS, precision: r.chosen.layers.map((l) => l.k), activationMethod: r.chosen.method, maxRounds: 0 };
}

/** The `pann compile` command that makes the chosen circuit (with the data options tune calibrated on). */
export function compileCommand(modelFile: string, r: TuneResult, out: string, data: DataFlags = {}): string {
  const f = chosenFlags(r);
  const words = [
    modelFile,
    '-k',
    ...f.precision.map(String),
    '-m',
    f.activationMethod,
    '--max-rounds',
    '0',
    ...dataFlagsArgs(data),
    '--out',
    out,
  ];
  return `pann compile ${words.map(shellWord).join(' ')}`;
}

function shellWord(s: string): string {
  return /^[\w./:=@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`;
}

/** Compile the chosen setting as `pann compile` would, check it is the circuit tune measured, and save it. */
function writeTunedCircuit(model: Model, flags: CompileFlags, r: TuneResult, modelFile: string, out: string): void {
  const circuit = compileWithProgress(model, flags);
  const c = r.chosen;
  if (circuit.report.ringDimension !== c.ringDimension || circuit.report.depth !== c.depth) {
    throw new StudyError(
      `the compiled circuit (N=${circuit.report.ringDimension}, depth ${circuit.report.depth}) is not the one tune measured (N=${c.ringDimension}, depth ${c.depth})`,
    );
  }
  saveCompiled(circuit, out, modelFile);
}

function studyMethod(m: string): StudyMethod {
  if (!STUDY_METHODS.includes(m as StudyMethod))
    throw new InputError(`--methods: unknown method '${m}'; valid: ${STUDY_METHODS.join(', ')}`);
  return m as StudyMethod;
}

function trialOutcome(trial: TuneTrial): string {
  return trial.status === 'ok'
    ? `validation loss ${trial.lossPoints!.toFixed(1)} points, predicted ${trial.predictedLatencyMs!.toFixed(0)} ms`
    : trial.status === 'skipped'
      ? `skipped (predicted ${trial.predictedLatencyMs!.toFixed(0)} ms cannot beat the best)`
      : 'does not compile';
}

/** The chosen setting per layer, its accuracy and cost, and what it saves against the baseline. */
function tuneReport(r: TuneResult): string[] {
  const c = r.chosen;
  return [
    `${r.model}: loss budget ${r.budgetPoints} points (validation split, sim backend with noise)`,
    ...c.layers.map(
      (l) => `  layers[${l.layer}] ${l.activation}: k=${l.k}, ${l.method} degree ${l.degrees.join('∘')}, B=${l.B.toPrecision(4)}`,
    ),
    `  validation ${(100 * c.validation.accuracy).toFixed(1)}% (float ${(100 * r.floatAccuracy.validation).toFixed(1)}%, loss ${c.validation.lossPoints.toFixed(1)} points)` +
      (c.test && r.floatAccuracy.test !== null
        ? `; test ${(100 * c.test.accuracy).toFixed(1)}% (float ${(100 * r.floatAccuracy.test).toFixed(1)}%, loss ${c.test.lossPoints.toFixed(1)})`
        : ''),
    `  circuit: N=${c.ringDimension}, depth ${c.depth}, predicted ${c.predictedLatencyMs.toFixed(0)} ms per encrypted digit`,
    'error' in r.baseline
      ? `  baseline k=${r.baseline.k} (${r.baseline.method}) does not compile: ${r.baseline.error}`
      : `  baseline k=${r.baseline.k} (${r.baseline.method}): N=${r.baseline.ringDimension}, depth ${r.baseline.depth}, predicted ${r.baseline.predictedLatencyMs.toFixed(0)} ms → ` +
        `${r.savedMs!.toFixed(0)} ms saved (${(100 * r.savedFraction!).toFixed(0)}%)`,
    `  ${r.trials.length} candidates (${r.trials.filter((t) => t.status === 'ok').length} simulated)`,
  ];
}
