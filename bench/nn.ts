/**
 * Benchmarks of the network layer: reference inference of the MNIST test split through each shipped model
 * (target: ≤ 5 s for the 1000-image split through mnist-cnn-relu), model load time and file size, and the time
 * of one training epoch of the CNN recipe. Prints a markdown table.
 */
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildModel } from '../src/nn/architecture.js';
import { evaluateModel } from '../src/nn/evaluate.js';
import { predict } from '../src/nn/inference.js';
import { loadMnistSplit } from '../src/nn/mnist.js';
import { loadModel } from '../src/nn/model-file.js';
import { parameterCount } from '../src/nn/model.js';
import { RECIPES } from '../src/nn/recipes.js';
import { trainModel } from '../src/nn/train.js';

const MODELS = ['mnist-mlp-relu', 'mnist-cnn-relu', 'mnist-cnn-ulu', 'mnist-cnn-aulu'];
const TARGET_S = 5;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function time(fn: () => void, repeats: number): number {
  const ts: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    fn();
    ts.push(performance.now() - t0);
  }
  return median(ts);
}

export function run(): void {
  const root = new URL('../../', import.meta.url);
  const test = loadMnistSplit('test');
  const rows: string[] = [];
  for (const name of MODELS) {
    const path = fileURLToPath(new URL(`models/${name}.json`, root));
    if (!existsSync(path)) {
      rows.push(`| ${name} | (missing) | | | | | |`);
      continue;
    }
    const loadMs = time(() => loadModel(path), 5);
    const model = loadModel(path);
    predict(model, test.inputs.subarray(0, 784 * 64));
    const ms = time(() => predict(model, test.inputs), 5);
    const acc = evaluateModel(model, test).accuracy;
    const target = name === 'mnist-cnn-relu' ? (ms / 1000 <= TARGET_S ? ' (target ≤ 5 s: met)' : ' (target ≤ 5 s: MISSED)') : '';
    rows.push(
      `| ${name} | ${parameterCount(model)} | ${(statSync(path).size / 1024).toFixed(0)} KiB | ${loadMs.toFixed(1)} | ` +
        `${(ms / 1000).toFixed(3)} s${target} | ${((1000 * test.count) / ms).toFixed(0)} | ${(100 * acc).toFixed(2)}% |`,
    );
  }
  const train = loadMnistSplit('train');
  const recipe = RECIPES['mnist-cnn-relu']!;
  const epoch = (activation: string) => {
    const m = buildModel('bench', [1, 28, 28], recipe.architecture, { seed: 1, activation });
    const t0 = performance.now();
    trainModel(m, train, {
      epochs: 1,
      batchSize: recipe.batchSize,
      learningRate: recipe.learningRate,
      augment: recipe.augment,
      weightDecay: recipe.weightDecay,
    });
    return (performance.now() - t0) / 1000;
  };
  const out = [
    '## nn: reference inference (float64) on the MNIST test split (1000 images), median of 5',
    '',
    '| model | parameters | file | load ms | 1000 images | images/s | test accuracy |',
    '|---|---|---|---|---|---|---|',
    ...rows,
    '',
    '## nn: one training epoch of the CNN recipe (8000 images, augmentation on)',
    '',
    '| activation | seconds/epoch |',
    '|---|---|',
    `| relu | ${epoch('relu').toFixed(1)} |`,
    `| ulu:a1=0.5,a2=2 | ${epoch('ulu:a1=0.5,a2=2').toFixed(1)} |`,
    `| aulu:b1=1,b2=1 | ${epoch('aulu:b1=1,b2=1').toFixed(1)} |`,
    '',
  ];
  process.stdout.write(`${out.join('\n')}\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) run();
