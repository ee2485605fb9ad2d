/**
 * The PyTorch training path (tools/train/resnet.py, issue 13): a few hundred images for one epoch, exported to ONNX,
 * imported by pann, whose float64 inference gives the accuracy PyTorch reported on the same test images. Needs
 * Debian's python3-torch and the full Fashion-MNIST set; skipped with a message where either is absent (CI does
 * not need PyTorch: the trained models are committed).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadFashionMnistFull } from '../../src/nn/fashion-mnist.js';
import { argmax, predict } from '../../src/nn/inference.js';
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
  if (!torch || !data) it(`ResNet-8 in PyTorch (skipped: ${why})`, () => expect(torch && data).toBe(false));
});
