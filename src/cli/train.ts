/**
 * `pann train`: train a model from a recipe (built-in name or recipe JSON), with command-line overrides,
 * or fine-tune a trained model with polynomial stand-ins in place (`--finetune-poly <model> --precision k`: each
 * activation becomes a polynomial fitted to max error 2^-k on [−B, B], B calibrated on the train split; then
 * fine-tuning on the train split with the validation split for model selection). The data is the MNIST split or
 * your own (data-options.ts).
 */
import { Command, Option } from 'commander';
import type { Activation } from '../approx/activations.js';
import type { PolynomialApproximation } from '../approx/polynomial.js';
import { fitterProvider } from '../compiler/polynomialise.js';
import { InputError } from '../errors.js';
import { evaluateModel } from '../nn/evaluate.js';
import { finetunePolynomial, type FinetuneResult } from '../nn/finetune.js';
import { type TrainingData, trainingData } from '../nn/data-source.js';
import { MNIST_INPUT_SHAPE } from '../nn/mnist.js';
import { saveModel } from '../nn/model-file.js';
import { loadModelOrOnnx } from './load-model.js';
import type { Model } from '../nn/model.js';
import { RECIPES, resolveRecipe, runRecipe, type Recipe } from '../nn/recipes.js';
import type { TrainOptions, TrainProgress } from '../nn/train.js';
import { action, intOption, numberOption, precisionOption, printJson, ProgressBar } from './common.js';
import { checkOutputPath } from '../files.js';
import { addDataOptions, DATA_HELP, type DataFlags, dataSpecFromFlags } from './data-options.js';

export interface FinetuneCliOptions {
  precision: number;
  margin?: number;
  range?: 'clamp' | 'penalty';
  epochs?: number;
  learningRate?: number;
  seed?: number;
  /** The training options `pann train` takes for a recipe, applied to the fine-tuning. */
  training?: Pick<TrainOptions, 'batchSize' | 'optimizer' | 'weightDecay' | 'mixupAlpha' | 'augment' | 'patience'>;
  /** Distil from the original (float) model: weight of its soft targets, and their temperature. */
  distill?: { weight: number; temperature: number };
  onProgress?: (p: TrainProgress) => void;
  /** Train, validation and test data. @default the MNIST split */
  data?: TrainingData;
}

export function finetuneWithPrecision(
  model: Model,
  o: FinetuneCliOptions,
): { model: Model; result: FinetuneResult; summary: Record<string, unknown>; text: string } {
  const { train, validation, test } = o.data ?? trainingData();
  const fits: { layer: number; method: string; degree: number; maxError: number; bound: number }[] = [];
  // the same precision semantics and fits as `pann compile`: max error ≤ B·2^-k on [-B, B]
  const fitter = fitterProvider();
  const provider = (act: Activation, bound: number, layer: number): PolynomialApproximation => {
    const fit = fitter({ activation: act, B: bound, precisionBits: o.precision, method: 'auto' });
    const degree =
      fit.approximation.stages.reduce((d, s) => d * (s.coefficients.length - 1), 1) + (fit.approximation.finish === 'none' ? 0 : 1);
    fits.push({ layer, method: fit.approximation.method, degree, maxError: fit.maxError, bound });
    return fit.approximation;
  };
  const result = finetunePolynomial(model, provider, {
    ...o.training,
    ...(o.distill ? { teacher: { model, ...o.distill } } : {}),
    train,
    validation,
    ...(o.margin !== undefined ? { margin: o.margin } : {}),
    ...(o.range !== undefined ? { range: o.range } : {}),
    ...(o.epochs !== undefined ? { epochs: o.epochs } : {}),
    ...(o.learningRate !== undefined ? { learningRate: o.learningRate } : {}),
    ...(o.seed !== undefined ? { seed: o.seed } : {}),
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
  });
  const out = result.model;
  const t = test ? evaluateModel(out, test) : null;
  const v = evaluateModel(out, validation);
  out.name = `${model.name}-poly${o.precision}`;
  out.metadata = {
    ...out.metadata,
    precision: o.precision,
    accuracy: t ? { test: t.accuracy, validation: v.accuracy } : { validation: v.accuracy },
  };
  const summary = {
    model: out.name,
    precision: o.precision,
    bounds: result.bounds,
    fits,
    before: result.before,
    testAccuracy: t ? t.accuracy : null,
    validationAccuracy: v.accuracy,
    fractionOutside: (t ?? v).stats.map((s) => s.fractionOutside),
    seconds: result.seconds,
  };
  const text =
    fits
      .map(
        (f) =>
          `layers[${f.layer}]: ${f.method} degree ${f.degree} on [-${f.bound.toFixed(3)}, ${f.bound.toFixed(3)}], max error ${f.maxError.toExponential(2)}`,
      )
      .join('\n') +
    `\n${out.name}: validation accuracy ` +
    `${pct(result.before?.original)} (original) → ${pct(result.before?.polynomial)} (polynomial) → ${pct(v.accuracy)} ` +
    `(fine-tuned)${t ? `; test ${pct(t.accuracy)}` : ''}`;
  return { model: out, result, summary, text };
}

function pct(x: number | undefined): string {
  return x === undefined ? '?' : `${(100 * x).toFixed(2)}%`;
}

interface TrainFlags extends DataFlags {
  out?: string;
  epochs?: number;
  seed?: number;
  activation?: string;
  arch?: string;
  name?: string;
  lr?: number;
  batchSize?: number;
  optimizer?: 'adam' | 'sgd';
  weightDecay?: number;
  mixup?: number;
  shift?: number;
  rotate?: number;
  zoom?: number;
  patience?: number;
  dtype: 'float32' | 'float64';
  json?: boolean;
  quiet?: boolean;
  finetunePoly?: string;
  precision?: number;
  margin?: number;
  range?: 'clamp' | 'penalty';
  distill?: number;
  temperature: number;
}

/** Recipe with the command-line overrides applied. */
function applyOverrides(recipe: Recipe, f: TrainFlags): Recipe {
  const r: Recipe = { ...recipe, schedule: { ...recipe.schedule }, augment: { ...recipe.augment } };
  if (f.name !== undefined) r.name = f.name;
  if (f.arch !== undefined) r.architecture = f.arch;
  if (f.activation !== undefined) r.activation = f.activation;
  if (f.epochs !== undefined) r.epochs = f.epochs;
  if (f.seed !== undefined) r.seed = f.seed;
  if (f.lr !== undefined) r.learningRate = f.lr;
  if (f.batchSize !== undefined) r.batchSize = f.batchSize;
  if (f.optimizer !== undefined) r.optimizer = f.optimizer;
  if (f.weightDecay !== undefined) r.weightDecay = f.weightDecay;
  if (f.mixup !== undefined) r.mixupAlpha = f.mixup;
  if (f.shift !== undefined) r.augment.shift = f.shift;
  if (f.rotate !== undefined) r.augment.rotate = f.rotate;
  if (f.zoom !== undefined) r.augment.scale = f.zoom;
  if (f.patience !== undefined) r.patience = f.patience;
  return r;
}

/** Progress bar over all batches plus one line per epoch on stderr. */
export function trainProgress(label: string, quiet: boolean): { onProgress: (p: TrainProgress) => void; done: () => void } {
  const bar = new ProgressBar(label, { quiet });
  return {
    onProgress: (p) => {
      const done = p.epoch * p.batches + p.batch;
      const stats = `epoch ${p.epoch + 1}/${p.epochs} loss ${p.loss.toFixed(4)} acc ${(100 * p.accuracy).toFixed(2)}%`;
      if (p.phase === 'batch') {
        bar.update(done, p.epochs * p.batches, stats);
      } else if (!quiet) {
        const v = p.validationAccuracy === undefined ? '' : ` val ${(100 * p.validationAccuracy).toFixed(2)}%`;
        const line = `${stats}${v} lr ${p.learningRate.toExponential(2)}`;
        process.stderr.write(process.stderr.isTTY ? `\r${line}\x1b[K\n` : `${line}\n`);
      }
    },
    done: () => bar.done(),
  };
}

export function registerTrain(program: Command): void {
  const cmd = program
    .command('train')
    .description('train a model from a recipe (or fine-tune one with polynomial activations) on MNIST or your own data')
    .argument('[recipe]', `built-in recipe (${Object.keys(RECIPES).join(', ')}) or a recipe .json file`)
    .option('-o, --out <file>', 'write the trained model here (default: models/<name>.json)')
    .option('--epochs <n>', 'override the number of epochs', intOption('--epochs', 1, 10000))
    .option('--seed <n>', 'override the seed', intOption('--seed', 0, 2 ** 31 - 1))
    .option('--activation <spec>', "override the activation of the architecture's act layers, e.g. ulu:a1=0.5,a2=2")
    .option('--arch <text>', "override the architecture, e.g. 'flatten dense:128 act dense:10'")
    .option('--name <name>', 'model name (default: the recipe name)')
    .option('--lr <x>', 'base learning rate', numberOption('--lr', 1e-8, 10))
    .option('--batch-size <n>', 'mini-batch size', intOption('--batch-size', 1, 8000))
    .addOption(new Option('--optimizer <name>', 'optimizer').choices(['adam', 'sgd']))
    .option('--weight-decay <x>', 'L2 weight decay on dense/conv weights', numberOption('--weight-decay', 0, 1))
    .option('--mixup <alpha>', 'Mixup alpha (0 = off)', numberOption('--mixup', 0, 100))
    .option('--shift <px>', 'augmentation: largest random shift in pixels', intOption('--shift', 0, 14))
    .option('--rotate <deg>', 'augmentation: largest random rotation in degrees', numberOption('--rotate', 0, 180))
    .option('--zoom <x>', 'augmentation: largest relative zoom', numberOption('--zoom', 0, 0.9))
    .option('--patience <n>', 'early stopping patience in epochs (0 = off)', intOption('--patience', 0, 10000))
    .addOption(new Option('--dtype <type>', 'storage type of the weights').choices(['float32', 'float64']).default('float32'))
    .option('--finetune-poly <model>', 'fine-tune this trained model with polynomial stand-ins (needs --precision)')
    .option(
      '--precision <k>',
      'with --finetune-poly: fit each activation to max error B·2^-k on [-B, B] (as pann compile)',
      precisionOption('--precision'),
    )
    .option('--margin <x>', 'with --finetune-poly: B = margin × max |input| on the train split', numberOption('--margin', 0.01, 100))
    .addOption(
      new Option('--range <mode>', 'with --finetune-poly: keep inputs in [-B, B] by clamping or a penalty').choices(['clamp', 'penalty']),
    )
    .option(
      '--distill <w>',
      'with --finetune-poly: learn from the float model too: targets = (1−w)·labels + w·its softmax',
      numberOption('--distill', 0, 1),
    )
    .option('--temperature <T>', "with --distill: temperature of the float model's softmax", numberOption('--temperature', 0.1, 100), 2);
  addDataOptions(cmd)
    .option('--json', 'print the result as JSON on stdout')
    .option('-q, --quiet', 'no progress output')
    .addHelpText(
      'after',
      `${DATA_HELP}
Training uses the train part, picks the best epoch on the validation part and reports the test part (none with
--test-fraction 0); --finetune-poly also calibrates B on the train part.

Examples:
  $ pann train mnist-cnn-relu --out models/mnist-cnn-relu.json
  $ pann train mnist-cnn-relu --data my-digits/ --epochs 10 --out /tmp/mine.json
  $ pann train mnist-cnn-relu --activation silu --epochs 20 --out /tmp/cnn-silu.json
  $ pann train my-recipe.json --out models/mine.json
  $ pann train --finetune-poly models/mnist-cnn-relu.json --precision 8 --out /tmp/cnn-poly8.json`,
    )
    .action(action('train', trainCommand));
}

/** `pann train`: fine-tune a model with polynomials (--finetune-poly), or train one from a recipe. */
function trainCommand(recipeArg: string | undefined, flags: TrainFlags): void {
  if (flags.finetunePoly !== undefined) return finetuneCommand(recipeArg, flags.finetunePoly, flags);
  if (flags.distill !== undefined) throw new InputError('--distill applies to --finetune-poly only');
  if (recipeArg === undefined) {
    throw new InputError(`missing recipe: one of ${Object.keys(RECIPES).join(', ')}, a recipe .json file, or --finetune-poly <model>`);
  }
  const recipe = applyOverrides(resolveRecipe(recipeArg), flags);
  // the output is checked before training, so a bad path cannot lose the trained weights
  const out = flags.out ?? `models/${recipe.name}.json`;
  checkOutputPath(out, { label: '--out', extensions: ['.json'] });
  const data = trainingData(dataSpecFromFlags(flags), MNIST_INPUT_SHAPE);
  const command = ['pann', 'train', ...process.argv.slice(3)].join(' ');
  const progress = trainProgress(recipe.name, flags.quiet === true || flags.json === true);
  const run = runRecipe(recipe, { onProgress: progress.onProgress, metadata: { command }, data });
  progress.done();
  saveModel(out, run.model, { dtype: flags.dtype });
  const summary = {
    model: recipe.name,
    out,
    testAccuracy: run.test ? run.test.accuracy : null,
    validationAccuracy: run.validation.accuracy,
    seconds: run.train.seconds,
    epochsRun: run.train.history.length,
    bestEpoch: run.train.bestEpoch + 1,
  };
  if (flags.json) printJson(summary);
  else {
    process.stdout.write(
      `${recipe.name}: ${run.test ? `test accuracy ${(100 * run.test.accuracy).toFixed(2)}%, ` : ''}validation ` +
        `${(100 * run.validation.accuracy).toFixed(2)}% (best epoch ${summary.bestEpoch}/${summary.epochsRun}, ` +
        `${run.train.seconds.toFixed(1)} s)\nwrote ${out}\n`,
    );
  }
}

/** --finetune-poly: fine-tune a trained model with polynomial stand-ins at --precision, save it and print the fits. */
function finetuneCommand(recipeArg: string | undefined, file: string, flags: TrainFlags): void {
  if (recipeArg !== undefined) throw new InputError(`give either a recipe or --finetune-poly, not both`);
  if (flags.precision === undefined) throw new InputError(`--finetune-poly needs --precision k`);
  if (!flags.out) throw new InputError(`--finetune-poly needs --out <file>`);
  checkOutputPath(flags.out, { label: '--out', extensions: ['.json'] });
  for (const [flag, given] of [
    ['--activation', flags.activation],
    ['--arch', flags.arch],
    ['--name', flags.name],
  ] as const) {
    if (given !== undefined) throw new InputError(`${flag} does not apply to --finetune-poly (the model keeps its architecture and name)`);
  }
  const model = loadModelOrOnnx(file);
  const data = trainingData(dataSpecFromFlags(flags), model.inputShape);
  const progress = trainProgress('finetune', flags.quiet === true || flags.json === true);
  const r = finetuneWithPrecision(model, { ...finetuneOptions(flags, flags.precision), onProgress: progress.onProgress, data });
  progress.done();
  r.model.metadata = { ...r.model.metadata, command: ['pann', 'train', ...process.argv.slice(3)].join(' ') };
  saveModel(flags.out, r.model, { dtype: flags.dtype });
  const summary = { out: flags.out, ...r.summary };
  if (flags.json) printJson(summary);
  else process.stdout.write(`${r.text}\nwrote ${flags.out}\n`);
}

/** The fine-tuning options the command line gives (only those given: the rest keep finetuneWithPrecision's defaults). */
function finetuneOptions(flags: TrainFlags, precision: number): FinetuneCliOptions {
  return {
    precision,
    ...(flags.margin !== undefined ? { margin: flags.margin } : {}),
    ...(flags.range !== undefined ? { range: flags.range } : {}),
    ...(flags.epochs !== undefined ? { epochs: flags.epochs } : {}),
    ...(flags.lr !== undefined ? { learningRate: flags.lr } : {}),
    ...(flags.seed !== undefined ? { seed: flags.seed } : {}),
    ...(flags.distill !== undefined ? { distill: { weight: flags.distill, temperature: flags.temperature } } : {}),
    training: {
      ...(flags.batchSize !== undefined ? { batchSize: flags.batchSize } : {}),
      ...(flags.optimizer !== undefined ? { optimizer: flags.optimizer } : {}),
      ...(flags.weightDecay !== undefined ? { weightDecay: flags.weightDecay } : {}),
      ...(flags.mixup !== undefined ? { mixupAlpha: flags.mixup } : {}),
      ...(flags.patience !== undefined ? { patience: flags.patience } : {}),
      ...(flags.shift !== undefined || flags.rotate !== undefined || flags.zoom !== undefined
        ? { augment: { shift: flags.shift ?? 0, rotate: flags.rotate ?? 0, scale: flags.zoom ?? 0 } }
        : {}),
    },
  };
}
