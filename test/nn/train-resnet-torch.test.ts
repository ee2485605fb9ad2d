/**
 * The PyTorch training path (tools/train/resnet.py, issue 13): a few hundred images for one epoch, exported to ONNX,
 * imported by pann, whose float64 inference gives the accuracy PyTorch reported on the same test images. Needs
 * Debian's python3-torch and the full Fashion-MNIST set; skipped with a message where either is absent (CI does
 * not need PyTorch: the trained models are committed).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadFashionMnistFull } from '../../src/nn/fashion-mnist.js';
import { argmax, predict } from '../../src/nn/inference.js';
import type { Layer, Model } from '../../src/nn/model.js';
import { loadModel } from '../../src/nn/model-file.js';
import { loadOnnx } from '../../src/nn/onnx/import.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const torch = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;
const data = existsSync('/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz');
const why = !torch ? 'needs python3-torch (apt install python3-torch)' : 'needs dataset-fashion-mnist';

describe('training a ResNet in PyTorch', () => {
  it.skipIf(!torch || !data)(
    `ResNet-8, one epoch on 512 images: pann's import reproduces PyTorch's test accuracy`,
    () => {
      const out = join(mkdtempSync(join(tmpdir(), 'pann-torch-')), 'r8');
      const r = spawnSync(
        '/usr/bin/python3',
        [
          'tools/train/resnet.py',
          '--depth',
          '8',
          '--widths',
          '4,8,16',
          '--epochs',
          '1',
          '--limit',
          '512',
          '--test-limit',
          '500',
          '--out',
          out,
        ],
        { encoding: 'utf8', cwd: root },
      );
      expect(r.stderr).toMatch(/epoch 1\/1: loss/);
      expect(r.status).toBe(0);
      const record = JSON.parse(readFileSync(`${out}.train.json`, 'utf8')) as { testAccuracy: number; network: string; seed: number };
      expect(record).toMatchObject({ network: 'ResNet-8', seed: 1 });
      const imp = loadOnnx(`${out}.onnx`);
      expect(imp.model.layers.filter((l) => l.type === 'add')).toHaveLength(3);
      const test = loadFashionMnistFull('test');
      const pred = argmax(predict(imp.model, test.inputs.subarray(0, 500 * 784)), 10);
      const acc = pred.filter((p, i) => p === test.labels[i]).length / 500;
      expect(acc).toBeCloseTo(record.testAccuracy, 2); // float32 (PyTorch) vs float64 (pann) may differ near a tie: within 2 images in 500
    },
    120_000,
  );
  it.skipIf(!torch || !data)(
    "polynomial-aware fine-tuning (tools/train/finetune_poly.py): PyTorch's stand-in is pann's, the model file round-trips",
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'pann-torch-ft-'));
      const run = (cmd: string, args: string[]) => spawnSync(cmd, args, { encoding: 'utf8', cwd: root, maxBuffer: 1 << 26 });
      const imp = run('node', ['bin/pann.js', 'import', 'test/fixtures/onnx/resnet.onnx', '--out', join(dir, 'r8.json')]);
      expect(imp.status, imp.stderr).toBe(0);
      const fit = run('node', ['bin/pann.js', 'fit', 'relu', '--precision', '6', '--range', '-1,1', '--method', 'remez', '--json']);
      expect(fit.status, fit.stderr).toBe(0);
      writeFileSync(join(dir, 'fit.json'), fit.stdout);
      const model = loadModel(join(dir, 'r8.json'));
      const bounds = model.layers.filter((l) => l.type === 'activation').map((_, i) => 3 + i / 2);
      const out = join(dir, 'ft');
      const r = run('/usr/bin/python3', [
        'tools/train/finetune_poly.py',
        ...['--model', join(dir, 'r8.json'), '--fit', join(dir, 'fit.json'), '--bounds', bounds.join(',')],
        ...['--epochs', '1', '--limit', '256', '--test-limit', '200', '--out', out],
      ]);
      expect(r.stderr).toMatch(/epoch 1\/1: loss/);
      expect(r.status).toBe(0);
      const record = JSON.parse(readFileSync(`${out}.train.json`, 'utf8')) as {
        history: { polynomialAccuracy: number; floatAccuracy: number }[];
      };
      const tuned = loadModel(`${out}.json`);
      expect(tuned.layers.map((l) => l.type)).toEqual(model.layers.map((l) => l.type));
      // the weights moved
      const w0 = (model.layers[0] as { weight: Float64Array }).weight;
      const w1 = (tuned.layers[0] as { weight: Float64Array }).weight;
      expect(w1.some((v, i) => Math.abs(v - w0[i]!) > 1e-6)).toBe(true);
      // pann's polynomial network with the same stand-in (relu(x) ≈ B·p(x/B), clamped) gives PyTorch's accuracy
      const c = (JSON.parse(fit.stdout) as { coefficients: number[] }).coefficients;
      let n = 0;
      const poly: Model = {
        ...tuned,
        layers: tuned.layers.map((l): Layer => {
          if (l.type !== 'activation') return l;
          const B = bounds[n++]!;
          const approximation = {
            activation: 'relu',
            method: 'remez' as const,
            interval: [-B, B] as [number, number],
            stages: [{ interval: [-B, B] as [number, number], coefficients: c.map((v) => v * B) }],
            finish: 'none' as const,
          };
          return { type: 'polynomial', clamp: true, approximation, ...(l.from !== undefined ? { from: l.from } : {}) };
        }),
      };
      const test = loadFashionMnistFull('test');
      const acc = (m: Model) =>
        argmax(predict(m, test.inputs.subarray(0, 200 * 784)), 10).filter((p, i) => p === test.labels[i]).length / 200;
      const last = record.history.at(-1)!;
      expect(Math.abs(acc(poly) - last.polynomialAccuracy)).toBeLessThanOrEqual(0.01); // float32 vs float64: 2 images
      expect(Math.abs(acc(tuned) - last.floatAccuracy)).toBeLessThanOrEqual(0.01);
      // --epochs 0 only evaluates: the same two accuracies, as JSON
      const ev = run('/usr/bin/python3', [
        'tools/train/finetune_poly.py',
        ...['--model', `${out}.json`, '--fit', join(dir, 'fit.json'), '--bounds', bounds.join(','), '--epochs', '0', '--test-limit', '200'],
      ]);
      expect(ev.status, ev.stderr).toBe(0);
      const only = JSON.parse(ev.stdout) as { float: number; polynomial: number; images: number };
      expect(only.images).toBe(200);
      expect(Math.abs(only.polynomial - acc(poly))).toBeLessThanOrEqual(0.01);
      expect(Math.abs(only.float - acc(tuned))).toBeLessThanOrEqual(0.01);
    },
    180_000,
  );
  if (!torch || !data) it(`ResNet-8 in PyTorch (skipped: ${why})`, () => expect(torch && data).toBe(false));
});
