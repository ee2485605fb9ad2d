/**
 * `pann eval <model>`: accuracy, confusion matrix and per-class accuracy of a model on the MNIST split
 * (or your own data: an image folder, IDX or CSV files), with reference float64 inference.
 */
import { Command } from 'commander';
import { type DataPart, isBuiltIn } from '../nn/data-source.js';
import { evaluateModel, type Evaluation } from '../nn/evaluate.js';
import { loadModelOrOnnx } from './load-model.js';
import { action, printJson, ProgressBar } from './common.js';
import { addDataOptions, DATA_HELP, type DataFlags, dataPartFromFlags, dataSpecFromFlags, withModelDataset } from './data-options.js';

interface EvalFlags extends DataFlags {
  split: DataPart;
  json?: boolean;
  quiet?: boolean;
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
  addDataOptions(cmd, { default: 'test', use: 'the accuracy is measured on' })
    .option('--json', 'print the evaluation as JSON on stdout')
    .option('-q, --quiet', 'no progress output')
    .addHelpText(
      'after',
      `${DATA_HELP}

Examples:
  $ pann eval models/mnist-cnn-relu.json
  $ pann eval models/mnist-cnn-relu.json --split validation --json
  $ pann eval models/mnist-cnn-relu.json --split all --idx t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz
  $ pann eval /tmp/mine.json --data my-digits/          # the test part of the split pann train --data made`,
    )
    .action(
      action('eval', (file: string, flags: EvalFlags) => {
        const model = loadModelOrOnnx(file);
        flags = withModelDataset(flags, model.metadata);
        const ds = dataPartFromFlags(flags, flags.split, model.inputShape);
        const bar = new ProgressBar('eval', { quiet: flags.quiet === true || flags.json === true });
        const e = evaluateModel(model, ds, { onProgress: (d, t) => bar.update(d, t) });
        bar.done();
        if (flags.json) {
          printJson({ model: model.name, file, ...e });
        } else {
          process.stdout.write(`${formatEvaluation(model.name, e)}\n`);
          const own = !isBuiltIn(dataSpecFromFlags(flags));
          if (own && flags.split !== 'all') {
            process.stdout.write(
              `(the ${flags.split} part of your data's seeded split, as pann train --data made it; --split all scores every sample)\n`,
            );
          }
        }
      }),
    );
}
