/**
 * `pann eval <model>`: accuracy, confusion matrix and per-class accuracy of a model on the MNIST split
 * (or on IDX / CSV files), with reference float64 inference.
 */
import { Command, Option } from 'commander';
import { InputError } from '../errors.js';
import { loadCsvDataset } from '../nn/csv.js';
import type { Dataset } from '../nn/dataset.js';
import { evaluateModel, type Evaluation } from '../nn/evaluate.js';
import { loadIdxDataset } from '../nn/idx.js';
import { loadMnistSplit, MNIST_SPLITS, type MnistSplit } from '../nn/mnist.js';
import { loadModelOrOnnx } from './load-model.js';
import { action, printJson, ProgressBar } from './common.js';

interface EvalFlags {
  split: MnistSplit;
  idx?: string[];
  csv?: string;
  csvScale?: string;
  json?: boolean;
  quiet?: boolean;
}

/** The dataset chosen by --split / --idx / --csv (shared by eval and info). */
export function datasetFromFlags(flags: { split: MnistSplit; idx?: string[]; csv?: string; csvScale?: string }): Dataset {
  if (flags.idx && flags.csv) throw new InputError(`give either --idx or --csv, not both`);
  if (flags.idx) {
    if (flags.idx.length !== 2) throw new InputError(`--idx needs two files: <images> <labels>`);
    return loadIdxDataset(flags.idx[0]!, flags.idx[1]!);
  }
  if (flags.csv) {
    const scale = flags.csvScale === undefined ? 1 : Number(flags.csvScale);
    if (!Number.isFinite(scale)) throw new InputError(`--csv-scale must be a finite number, got '${flags.csvScale}'`);
    return loadCsvDataset(flags.csv, { scale });
  }
  return loadMnistSplit(flags.split);
}

/** Options shared by commands that read a dataset. */
export function addDatasetOptions(cmd: Command, defaultSplit: MnistSplit): Command {
  return cmd
    .addOption(new Option('--split <split>', 'MNIST split').choices([...MNIST_SPLITS]).default(defaultSplit))
    .option('--idx <files...>', 'IDX images and labels files instead of the MNIST split (gzip ok)')
    .option('--csv <file>', 'CSV file instead of the MNIST split (label first, then the input values)')
    .option('--csv-scale <x>', 'multiply CSV input values by this (e.g. 0.00392156862745098 = 1/255)');
}

function pct(x: number): string {
  return Number.isNaN(x) ? '   -  ' : `${(100 * x).toFixed(2)}%`;
}

export function formatEvaluation(name: string, e: Evaluation): string {
  const lines = [
    `${name} on ${e.dataset}: accuracy ${pct(e.accuracy)} (${e.correct}/${e.count}), mean cross-entropy ${e.loss.toFixed(4)}`,
    '',
    'class:    ' + e.perClass.map((c) => String(c.label).padStart(8)).join(''),
    'accuracy: ' + e.perClass.map((c) => pct(c.accuracy).padStart(8)).join(''),
    'count:    ' + e.perClass.map((c) => String(c.count).padStart(8)).join(''),
    '',
    'confusion matrix (rows: true class, columns: predicted):',
    '      ' + e.confusion.map((_, j) => String(j).padStart(5)).join(''),
    ...e.confusion.map((row, i) => String(i).padStart(5) + ' ' + row.map((v) => String(v).padStart(5)).join('')),
  ];
  const poly = e.stats.filter((s) => s.type === 'polynomial');
  if (poly.length) {
    lines.push('', 'polynomial layers: inputs outside [a, b]');
    for (const s of poly) {
      lines.push(
        `  layers[${s.layer}] ${s.activation} on [${s.interval!.join(', ')}]: ${s.outside}/${s.count} (${(100 * s.fractionOutside).toFixed(4)}%)${s.clamped ? ', clamped' : ''}`,
      );
    }
  }
  return lines.join('\n');
}

export function registerEval(program: Command): void {
  const cmd = program
    .command('eval')
    .description('accuracy, confusion matrix and per-class accuracy of a model (reference float64 inference)')
    .argument('<model>', 'model file (pann-model JSON, or ONNX)');
  addDatasetOptions(cmd, 'test')
    .option('--json', 'print the evaluation as JSON on stdout')
    .option('-q, --quiet', 'no progress output')
    .addHelpText(
      'after',
      `
Examples:
  $ pann eval models/mnist-cnn-relu.json
  $ pann eval models/mnist-cnn-relu.json --split validation --json
  $ pann eval models/mnist-cnn-relu.json --idx t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz`,
    )
    .action(
      action('eval', (file: string, flags: EvalFlags) => {
        const model = loadModelOrOnnx(file);
        const ds = datasetFromFlags(flags);
        const bar = new ProgressBar('eval', { quiet: flags.quiet === true || flags.json === true });
        const e = evaluateModel(model, ds, { onProgress: (d, t) => bar.update(d, t) });
        bar.done();
        if (flags.json) {
          printJson({ model: model.name, file, ...e });
        } else {
          process.stdout.write(`${formatEvaluation(model.name, e)}\n`);
        }
      }),
    );
}
