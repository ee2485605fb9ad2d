/**
 * `pann predict <model> --input inputs.json`: logits and predicted class for each input vector, so a user can
 * compare pann with the framework a model came from.
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { InputError, errorMessage } from '../errors.js';
import { argmax, predict } from '../nn/inference.js';
import { loadModelOrOnnx } from './load-model.js';
import { formatShape, shapeSize } from '../nn/model.js';
import { action, printJson } from './common.js';

/** Read a JSON array of flat input vectors, each with `size` finite numbers. */
export function readInputsFile(path: string, size: number): Float64Array {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new InputError(`cannot read inputs ${path}: ${errorMessage(err)}`, { cause: err });
  }
  if (!Array.isArray(raw) || raw.length === 0) throw new InputError(`${path}: expected a non-empty JSON array of input vectors`);
  const out = new Float64Array(raw.length * size);
  raw.forEach((row, i) => {
    if (!Array.isArray(row)) throw new InputError(`${path}: input ${i} is not an array of numbers`);
    if (row.length !== size) throw new InputError(`${path}: input ${i} has ${row.length} values, the model expects ${size}`);
    row.forEach((v, j) => {
      if (typeof v !== 'number' || !Number.isFinite(v))
        throw new InputError(`${path}: input ${i} value ${j} is ${JSON.stringify(v)}, not a finite number`);
      out[i * size + j] = v;
    });
  });
  return out;
}

export function registerPredict(program: Command): void {
  program
    .command('predict')
    .description('logits and predicted class of each input (reference float64 inference)')
    .argument('<model>', 'model file (pann-model JSON, or ONNX)')
    .requiredOption('-i, --input <file>', 'JSON array of flat input vectors (C-H-W order; 784 numbers each for MNIST)')
    .option('--json', 'print [{ "logits": [...], "prediction": n }, ...] on stdout')
    .addHelpText(
      'after',
      `
Examples:
  $ pann predict models/mnist-cnn-relu.json --input digits.json
  $ pann predict models/mnist-cnn-relu.json --input digits.json --json`,
    )
    .action(
      action('predict', (file: string, flags: { input: string; json?: boolean }) => {
        const model = loadModelOrOnnx(file);
        const size = shapeSize(model.inputShape);
        const inputs = readInputsFile(flags.input, size);
        const logits = predict(model, inputs);
        const classes = logits.length / (inputs.length / size);
        const pred = argmax(logits, classes);
        const rows = Array.from(pred, (p, i) => ({ logits: Array.from(logits.subarray(i * classes, (i + 1) * classes)), prediction: p }));
        if (flags.json) {
          printJson(rows);
          return;
        }
        process.stdout.write(`${model.name} (input ${formatShape(model.inputShape)}): ${rows.length} input(s)\n`);
        rows.forEach((r, i) => {
          process.stdout.write(`${i}: prediction ${r.prediction}  logits [${r.logits.map((v) => v.toFixed(4)).join(', ')}]\n`);
        });
      }),
    );
}
