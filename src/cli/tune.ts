/**
 * `pann tune <model> --max-loss 0.5`: per activation layer the lowest precision k (and method) that keeps the
 * validation-split accuracy loss within the budget (sim backend with noise), compiled and compared with a uniform
 * k = 12 baseline.
 */
import { Command } from 'commander';
import { InputError } from '../errors.js';
import { trainingData } from '../nn/data-source.js';
import { headDataset } from '../nn/dataset.js';
import { STUDY_METHODS, type StudyMethod } from '../study/grid.js';
import { type TuneResult, type TuneTrial, tuneModel } from '../study/tune.js';
import { loadModelOrOnnx } from './load-model.js';
import { action, intOption, numberOption, precisionOption, printJson } from './common.js';
import { addDataOptions, DATA_HELP, type DataFlags, dataSpecFromFlags } from './data-options.js';

interface TuneFlags extends DataFlags {
  maxLoss?: number;
  methods?: string[];
  kMin: number;
  kMax: number;
  baselineK: number;
  noiseSeed: number;
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
  $ pann tune models/mnist-cnn-relu.json --max-loss 0.5
  $ pann tune models/mnist-cnn-ulu.json --max-loss 1 -m remez --json`,
    )
    .action(action('tune', tuneCommand));
}

/** `pann tune`: search the precisions, print each candidate as it is tried, then the chosen setting. */
function tuneCommand(file: string, flags: TuneFlags): void {
  if (flags.maxLoss === undefined) throw new InputError('--max-loss <points> is required (e.g. 0.5)');
  const methods = flags.methods?.map(studyMethod);
  const model = loadModelOrOnnx(file);
  const spec = dataSpecFromFlags(flags);
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
    onProgress: ({ trial, trials }) => {
      if (flags.quiet || flags.json) return;
      process.stderr.write(`tune #${trials}: ${trial.method} k=${trial.ks.join('/')}: ${trialOutcome(trial)}\n`);
    },
  });
  if (flags.json) {
    printJson(r);
    return;
  }
  process.stdout.write(`${tuneReport(r).join('\n')}\n`);
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
