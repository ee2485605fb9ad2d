/**
 * The shipped residual networks, models/fashion-resnet8 and fashion-resnet20 (trained in PyTorch by
 * tools/train/resnet.py, imported from their ONNX exports): the ResNet-(6n+2) topology, the metadata, and the accuracy
 * each records on the vendored Fashion-MNIST test split reproduced by pann's float64 inference; the file and the ONNX
 * export are the same network.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { evaluateModel } from '../../src/nn/evaluate.js';
import { loadFashionMnistSplit } from '../../src/nn/fashion-mnist.js';
import { predict } from '../../src/nn/inference.js';
import { loadModel } from '../../src/nn/model-file.js';
import { loadOnnx } from '../../src/nn/onnx/import.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

for (const [name, n] of [
  ['fashion-resnet8', 1],
  ['fashion-resnet20', 3],
] as const) {
  describe(`models/${name}`, () => {
    const m = loadModel(`${root}models/${name}.json`);
    const accuracy = m.metadata.accuracy as { test: number; 'fashion-mnist:test': number };

    it(`is a ResNet-${6 * n + 2}: ${6 * n + 1} ReLU layers, ${3 * n} residual adds, two strided 1×1 shortcuts, trained on fashion-mnist-full`, () => {
      expect(m.layers.filter((l) => l.type === 'activation')).toHaveLength(6 * n + 1);
      expect(m.layers.filter((l) => l.type === 'add')).toHaveLength(3 * n);
      expect(m.layers.filter((l) => l.type === 'conv2d' && l.kernel[0] === 1 && l.from !== undefined)).toHaveLength(2);
      expect((m.metadata.dataset as { name: string }).name).toBe('fashion-mnist-full');
      const record = JSON.parse(readFileSync(`${root}models/training/${name}.train.json`, 'utf8')) as {
        testAccuracy: number;
        seed: number;
      };
      // pann's float64 inference on the official 10,000 test images gave PyTorch's accuracy when it was imported
      expect(accuracy.test).toBe(record.testAccuracy);
      expect(accuracy.test).toBeGreaterThan(n === 3 ? 0.92 : 0.9); // issue 13: ResNet-20 ≥ 92 %
    });

    it('reproduces the accuracy it records on the vendored fashion-mnist test split, and equals its ONNX export', () => {
      const test = loadFashionMnistSplit('test');
      // the whole split for ResNet-8 (30 s); ResNet-20 is 3× slower, its metadata was measured the same way at import
      if (n === 1) expect(evaluateModel(m, test).accuracy).toBe(accuracy['fashion-mnist:test']);
      else expect(accuracy['fashion-mnist:test']).toBeGreaterThan(0.92);
      const onnx = loadOnnx(`${root}models/${name}.onnx`).model;
      const x = test.inputs.subarray(0, (n === 1 ? 20 : 5) * 784);
      const [a, b] = [predict(m, x), predict(onnx, x)];
      for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThan(1e-5); // float32 file vs ONNX weights
    }, 120_000);
  });
}
