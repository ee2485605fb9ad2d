/**
 * The nn commands through the built CLI (node bin/pann.js; `npm test` builds first): output, and bad input exiting
 * with code 2 and a one-line message naming the problem.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { activation } from '../../src/approx/activations.js';
import { argmax, predict } from '../../src/nn/inference.js';
import { saveModel } from '../../src/nn/model-file.js';
import type { Model } from '../../src/nn/model.js';
import { Prng } from '../../src/nn/prng.js';
import { conv, dense, randomArray } from './helpers.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'pann-cli-'));

function pann(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync('node', [`${root}bin/pann.js`, ...args], { encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const rng = new Prng(9);
const model: Model = {
  name: 'tiny',
  inputShape: [1, 4, 4],
  layers: [
    conv(rng, 1, 2, [3, 3], [1, 1], [0, 0]),
    { type: 'activation', activation: activation('relu') },
    { type: 'flatten' },
    dense(rng, 8, 3),
  ],
  metadata: {},
};
const modelPath = join(dir, 'tiny.json');
saveModel(modelPath, model, { dtype: 'float64' });

describe('pann predict', () => {
  it('prints logits and the predicted class per input (--json matches the library)', () => {
    const inputs = [Array.from(randomArray(rng, 16)), Array.from(randomArray(rng, 16))];
    const file = join(dir, 'in.json');
    writeFileSync(file, JSON.stringify(inputs));
    const r = pann('predict', modelPath, '--input', file, '--json');
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as { logits: number[]; prediction: number }[];
    const logits = predict(model, Float64Array.from(inputs.flat()));
    const pred = argmax(logits, 3);
    expect(rows.map((x) => x.prediction)).toEqual(Array.from(pred));
    expect(rows[1]!.logits).toEqual(Array.from(logits.subarray(3, 6)));
    const text = pann('predict', modelPath, '--input', file);
    expect(text.stdout).toMatch(/^1: prediction \d {2}logits \[/m);
  });

  it('bad inputs exit 2 with a message naming the input', () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify([Array(16).fill(0), Array(15).fill(0)]));
    let r = pann('predict', modelPath, '--input', file);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`pann predict: ${file}: input 1 has 15 values, the model expects 16`);
    writeFileSync(file, '[[1, 2, "x"');
    r = pann('predict', modelPath, '--input', file);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot read inputs .*JSON/);
    r = pann('predict', join(dir, 'nope.json'), '--input', file);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^pann predict: cannot read model file .*nope\.json/);
  });
});

describe('pann eval / info / train', () => {
  it('eval and info reject garbage model files with exit code 2', () => {
    const bad = join(dir, 'garbage.json');
    writeFileSync(bad, '{"format": "pann-model", "version": 1, "name": "x", "inputShape": [4], "layers": [{"type": "lstm"}]}');
    for (const cmd of ['eval', 'info']) {
      const r = pann(cmd, bad);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n').length).toBe(1);
      expect(r.stderr).toMatch(/layers\[0\]\.type: unknown layer type "lstm"/);
    }
  });

  it('eval refuses a dataset that does not fit the model', () => {
    const r = pann('eval', modelPath, '--split', 'validation');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /mnist:validation: inputs of shape \[1, 28, 28\] \(784 values\) do not fit the model's input shape \[1, 4, 4\] \(16 values\)/,
    );
  });

  it('info lists layers, shapes, parameters and activation input ranges', () => {
    const r = pann('info', `${root}models/mnist-cnn-relu.json`, '--split', 'validation', '--json');
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout) as {
      parameters: number;
      layers: { outputShape: number[] }[];
      ranges: { layer: number; min: number; max: number; percentiles: { p: number }[] }[];
    };
    expect(info.layers[0]!.outputShape[0]).toBeLessThanOrEqual(5);
    expect(info.parameters).toBeGreaterThan(10000);
    expect(info.ranges.map((x) => x.layer)).toEqual([1, 4]);
    expect(info.ranges[0]!.min).toBeLessThan(info.ranges[0]!.max);
    expect(info.ranges[0]!.percentiles.map((p) => p.p)).toEqual([0.1, 1, 50, 99, 99.9]);
  });

  it('train: unknown recipe, bad options and incomplete fine-tuning requests exit 2', () => {
    let r = pann('train', 'mnist-transformer');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown recipe 'mnist-transformer'; built-in recipes: mnist-mlp-relu/);
    // option parsing errors come from commander (its exit code is set in main.ts, not here)
    r = pann('train', 'mnist-cnn-relu', '--epochs', '0');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/--epochs must be in 1\.\.10000, got 0/);
    r = pann('train', '--finetune-poly', modelPath);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--finetune-poly needs --precision k/);
    r = pann('train', '--finetune-poly', modelPath, '--precision', '4', '--out', join(dir, 'x.json'), '--arch', 'dense:10');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--arch does not apply to --finetune-poly/);
    r = pann('train', 'mnist-cnn-relu', '--distill', '0.5');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--distill applies to --finetune-poly only/);
    const recipe = join(dir, 'r.json');
    writeFileSync(recipe, JSON.stringify({ format: 'pann-recipe', version: 1, name: 'x', architecture: 'dense:10', epochs: -1 }));
    r = pann('train', recipe);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/r\.json: epochs: bad value -1/);
  });

  it('every command documents an example in --help', () => {
    for (const cmd of ['train', 'eval', 'info', 'predict']) {
      const r = pann(cmd, '--help');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`Examples:\\n\\s+\\$ pann ${cmd} `));
    }
  });
});

describe('pann train end to end (small recipe)', () => {
  it('trains from a recipe file, records accuracy that eval reproduces, then fine-tunes with polynomials', () => {
    const recipe = join(dir, 'small.json');
    writeFileSync(
      recipe,
      JSON.stringify({
        format: 'pann-recipe',
        version: 1,
        name: 'small-mlp',
        architecture: 'flatten dense:16 act dense:10',
        activation: 'relu',
        epochs: 2,
        learningRate: 0.003,
      }),
    );
    const out = join(dir, 'small-model.json'); // a model file must end in .json (checked before training)
    let r = pann('train', recipe, '--out', out, '--json');
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout) as { testAccuracy: number; validationAccuracy: number };
    expect(summary.testAccuracy).toBeGreaterThan(0.85);
    r = pann('eval', out, '--json');
    expect((JSON.parse(r.stdout) as { accuracy: number }).accuracy).toBe(summary.testAccuracy);
    const poly = join(dir, 'small-poly.json');
    r = pann(
      'train',
      '--finetune-poly',
      out,
      '--precision',
      '5',
      '--epochs',
      '1',
      '--out',
      poly,
      '--json',
      '--distill',
      '0.5',
      '--weight-decay',
      '1e-4',
    );
    expect(r.code).toBe(0);
    // the training options and the command line are recorded with the model
    const meta = (JSON.parse(readFileSync(poly, 'utf8')) as { metadata: { command: string } }).metadata;
    expect(meta.command).toMatch(/--distill 0\.5 --weight-decay 1e-4/);
    const ft = JSON.parse(r.stdout) as { bounds: number[]; testAccuracy: number; fits: { degree: number; maxError: number }[] };
    expect(ft.bounds.length).toBe(1);
    // precision k means max error ≤ B·2^-k on [-B, B] (as pann compile)
    expect(ft.fits[0]!.maxError).toBeLessThanOrEqual(ft.bounds[0]! * 2 ** -5 * (1 + 1e-9));
    expect(ft.testAccuracy).toBeGreaterThan(0.8);
    r = pann('info', poly, '--no-ranges');
    expect(r.stdout).toMatch(/polynomial relu on \[-\d+(\.\d+)?, \d+(\.\d+)?\] \w+ degree \d+.* clamped/);
  });
});
