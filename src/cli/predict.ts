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
import { digitFromPng } from '../server/digit-image.js';

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

/** PNG digits as model inputs, preprocessed as the client does (digitFromPng); the model must take 784 values. */
export function readImageFiles(paths: readonly string[], size: number): Float64Array {
  if (size !== 784) throw new InputError(`--image makes 28×28 MNIST-style digits (784 values); this one takes ${size}: use --input`);
  const out = new Float64Array(paths.length * size);
  paths.forEach((path, i) => {
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch (err) {
      throw new InputError(`cannot read ${path}: ${errorMessage(err)}`, { cause: err });
    }
    out.set(digitFromPng(bytes, path), i * size);
  });
  return out;
}

export function registerPredict(program: Command): void {
  program
    .command('predict')
    .description('logits and predicted class of each input (reference float64 inference)')
    .argument('<model>', 'model file (pann-model JSON, or ONNX)')
    .option('-i, --input <file>', 'JSON array of flat input vectors (C-H-W order; 784 numbers each for MNIST)')
    .option('--image <file.png...>', 'PNG digits (grey by luminance, inverted if light background, MNIST-normalised to 28×28)')
    .option('--json', 'print [{ "logits": [...], "prediction": n }, ...] on stdout')
    .addHelpText(
      'after',
      `
Examples:
  $ pann predict models/mnist-cnn-relu.json --input digits.json
  $ pann predict models/mnist-cnn-relu.json --input digits.json --json
  $ pann predict models/mnist-cnn-relu.json --image seven.png three.png`,
    )
    .action(
      action('predict', (file: string, flags: { input?: string; image?: string[]; json?: boolean }) => {
        if ((flags.input === undefined) === (flags.image === undefined)) throw new InputError('give one of --input or --image');
        const model = loadModelOrOnnx(file);
        const size = shapeSize(model.inputShape);
        const inputs = flags.input ? readInputsFile(flags.input, size) : readImageFiles(flags.image!, size);
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
