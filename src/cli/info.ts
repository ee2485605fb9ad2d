/**
 * `pann info <model>`: layers, shapes, parameter counts, recorded accuracy, and the input range of every
 * activation/polynomial layer on the calibration split (min, max, percentiles).
 */
import { Command } from 'commander';
import { activationInputRanges } from '../nn/calibration.js';
import type { DataPart } from '../nn/data-source.js';
import { loadModelOrOnnx } from './load-model.js';
import { describeLayer, formatShape, layerParameterCount, modelShapes, parameterCount } from '../nn/model.js';
import { action, printJson } from './common.js';
import { addDataOptions, DATA_HELP, type DataFlags, dataPartFromFlags, withModelDataset } from './data-options.js';

interface InfoFlags extends DataFlags {
  split: DataPart;
  ranges: boolean;
  json?: boolean;
}

const PERCENTILES = [0.1, 1, 50, 99, 99.9];

export function registerInfo(program: Command): void {
  const cmd = program
    .command('info')
    .description('layers, shapes, parameter count and activation input ranges of a model')
    .argument('<model>', 'model file (pann-model JSON, or ONNX)');
  addDataOptions(cmd, { default: 'train', use: 'the activation input ranges are measured on' })
    .option('--no-ranges', 'skip the activation input ranges (no data needed)')
    .option('--json', 'print as JSON on stdout')
    .addHelpText(
      'after',
      `
The activation input ranges are measured on the calibration split (default: the MNIST train split), the data
the compiler calibrates the polynomial range [-B, B] on.
${DATA_HELP}

Examples:
  $ pann info models/mnist-cnn-relu.json
  $ pann info models/mnist-cnn-relu.json --split validation --json
  $ pann info models/mnist-mlp-relu.json --no-ranges`,
    )
    .action(
      action('info', (file: string, flags: InfoFlags) => {
        const model = loadModelOrOnnx(file);
        const shapes = modelShapes(model);
        const layers = model.layers.map((l, i) => ({
          index: i,
          type: l.type,
          description: describeLayer(l),
          outputShape: [...shapes[i]!],
          parameters: layerParameterCount(l),
        }));
        const ranges = flags.ranges
          ? activationInputRanges(model, dataPartFromFlags(withModelDataset(flags, model.metadata), flags.split, model.inputShape), {
              percentiles: PERCENTILES,
            })
          : [];
        const accuracy = model.metadata.accuracy;
        if (flags.json) {
          printJson({
            name: model.name,
            file,
            inputShape: model.inputShape,
            parameters: parameterCount(model),
            layers,
            accuracy,
            ...(flags.ranges ? { calibration: flags.idx || flags.csv ? 'file' : `mnist:${flags.split}`, ranges } : {}),
          });
          return;
        }
        const out = [
          `${model.name}: input ${formatShape(model.inputShape)}, ${parameterCount(model)} parameters`,
          ...(accuracy && typeof accuracy === 'object' ? [`recorded accuracy: ${JSON.stringify(accuracy)}`] : []),
          '',
          ' #  layer                                              output shape      params',
          ...layers.map(
            (l) =>
              `${String(l.index).padStart(2)}  ${l.description.padEnd(50)} ${formatShape(l.outputShape).padEnd(17)} ${String(l.parameters).padStart(7)}`,
          ),
        ];
        if (ranges.length) {
          out.push('', `activation input ranges on ${flags.idx || flags.csv ? 'the given data' : `mnist:${flags.split}`}:`);
          out.push(`  layer        min        max     max|x| ${PERCENTILES.map((p) => `p${p}|x|`.padStart(9)).join(' ')}  activation`);
          for (const r of ranges) {
            out.push(
              `  ${String(r.layer).padStart(5)} ${r.min.toFixed(3).padStart(10)} ${r.max.toFixed(3).padStart(10)} ${r.maxAbs.toFixed(3).padStart(10)} ` +
                `${r.percentiles.map((p) => p.abs.toFixed(3).padStart(9)).join(' ')}  ${r.activation}`,
            );
          }
        }
        process.stdout.write(`${out.join('\n')}\n`);
      }),
    );
}
