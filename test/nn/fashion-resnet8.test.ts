/**
 * The shipped residual network, models/fashion-resnet8 (trained in PyTorch by tools/train/resnet.py, imported from
 * its ONNX export): the ResNet-8 topology, its metadata, and the accuracy it records on the vendored Fashion-MNIST
 * test split reproduced by pann's float64 inference; the file and the ONNX export are the same network.
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

describe('models/fashion-resnet8', () => {
  const m = loadModel(`${root}models/fashion-resnet8.json`);
  const accuracy = m.metadata.accuracy as { test: number; 'fashion-mnist:test': number };

  it('is a ResNet-8: 7 ReLU layers, 3 residual adds, two strided 1×1 shortcuts, trained on fashion-mnist-full', () => {
    expect(m.layers.filter((l) => l.type === 'activation')).toHaveLength(7);
    expect(m.layers.filter((l) => l.type === 'add')).toHaveLength(3);
    expect(m.layers.filter((l) => l.type === 'conv2d' && l.kernel[0] === 1 && l.from !== undefined)).toHaveLength(2);
    expect((m.metadata.dataset as { name: string }).name).toBe('fashion-mnist-full');
    const record = JSON.parse(readFileSync(`${root}models/training/fashion-resnet8.train.json`, 'utf8')) as {
      testAccuracy: number;
      seed: number;
    };
    // pann's float64 inference on the official 10,000 test images gave PyTorch's accuracy when it was imported
    expect(accuracy.test).toBe(record.testAccuracy);
    expect(accuracy.test).toBeGreaterThan(0.9);
  });

  it('reproduces the accuracy it records on the vendored fashion-mnist test split, and equals its ONNX export', () => {
    const test = loadFashionMnistSplit('test');
    expect(evaluateModel(m, test).accuracy).toBe(accuracy['fashion-mnist:test']);
    const onnx = loadOnnx(`${root}models/fashion-resnet8.onnx`).model;
    const x = test.inputs.subarray(0, 20 * 784);
    const [a, b] = [predict(m, x), predict(onnx, x)];
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThan(1e-5); // float32 file vs ONNX weights
  }, 120_000);
});
