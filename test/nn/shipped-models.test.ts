/**
 * The shipped reference models: architecture constraints of the encrypted packing (N=8192), the one model deeper
 * than a single modulus chain holds, and the accuracy recorded in each file reproduced by reference inference and
 * by `pann eval` on the split.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { evaluateModel } from '../../src/nn/evaluate.js';
import { loadMnistSplit } from '../../src/nn/mnist.js';
import { loadModel } from '../../src/nn/model-file.js';
import type { Model } from '../../src/nn/model.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const path = (name: string) => `${root}models/${name}.json`;
const CNNS = ['mnist-cnn-relu', 'mnist-cnn-ulu', 'mnist-cnn-aulu'];
const SHALLOW = ['mnist-mlp-relu', ...CNNS, 'mnist-cnn1-relu'];
const DEEP = 'mnist-mlp7-relu';
const ALL = [...SHALLOW, DEEP];

function recorded(m: Model): { test: number; validation: number } {
  return m.metadata.accuracy as { test: number; validation: number };
}

describe('shipped models', () => {
  it.each(ALL)('%s: recorded test and validation accuracy are reproduced', (name) => {
    const m = loadModel(path(name));
    expect(m.name).toBe(name);
    expect(evaluateModel(m, loadMnistSplit('test')).accuracy).toBe(recorded(m).test);
    expect(evaluateModel(m, loadMnistSplit('validation')).accuracy).toBe(recorded(m).validation);
    expect((m.metadata.recipe as { name: string }).name).toBe(name);
  });

  it.each(SHALLOW)('%s has at most two activation layers', (name) => {
    expect(loadModel(path(name)).layers.filter((l) => l.type === 'activation').length).toBeLessThanOrEqual(2);
  });

  it('mnist-mlp7-relu is deeper: seven ReLU layers between dense layers, at least 96% on the test split', () => {
    const m = loadModel(path(DEEP));
    expect(m.layers.map((l) => l.type)).toEqual(['flatten', ...new Array<string[]>(7).fill(['dense', 'activation']).flat(), 'dense']);
    expect(recorded(m).test).toBeGreaterThanOrEqual(0.96);
  });

  it('mnist-cnn-relu reaches at least 98% on the test split', () => {
    expect(recorded(loadModel(path('mnist-cnn-relu'))).test).toBeGreaterThanOrEqual(0.98);
  });

  it.each(CNNS)('%s fits the N=8192 packing: one 5×5 stride-2 conv with ≤ 5 channels, dense ≤ 64, then 10', (name) => {
    const m = loadModel(path(name));
    expect(m.inputShape).toEqual([1, 28, 28]);
    expect(m.layers.map((l) => l.type)).toEqual(['conv2d', 'activation', 'flatten', 'dense', 'activation', 'dense']);
    const conv = m.layers[0] as Extract<Model['layers'][number], { type: 'conv2d' }>;
    expect(conv.outChannels).toBeLessThanOrEqual(5);
    expect(conv.kernel).toEqual([5, 5]);
    expect(conv.stride).toEqual([2, 2]);
    expect((m.layers[3] as { outFeatures: number }).outFeatures).toBeLessThanOrEqual(64);
    expect((m.layers[5] as { outFeatures: number }).outFeatures).toBe(10);
  });

  it('mnist-cnn1-relu has one activation layer and mnist-cnn1-relu-poly6 is its fine-tuned PANN within 0.5 points', () => {
    const m = loadModel(path('mnist-cnn1-relu'));
    expect(m.layers.map((l) => l.type)).toEqual(['conv2d', 'activation', 'flatten', 'dense']);
    expect(recorded(m).test).toBeGreaterThanOrEqual(0.98);
    const pann = loadModel(path('mnist-cnn1-relu-poly6'));
    expect(pann.layers.map((l) => l.type)).toEqual(['conv2d', 'polynomial', 'flatten', 'dense']);
    const test = evaluateModel(pann, loadMnistSplit('test')).accuracy;
    expect(test).toBe(recorded(pann).test);
    expect(test).toBeGreaterThanOrEqual(recorded(m).test - 0.005);
  });

  it('mnist-cnn1-relu-poly4 is its degree-2 PANN within 0.5 points on test and validation: recorded accuracy reproduced', () => {
    const pann = loadModel(path('mnist-cnn1-relu-poly4'));
    expect(pann.layers.map((l) => l.type)).toEqual(['conv2d', 'polynomial', 'flatten', 'dense']);
    const poly = pann.layers[1] as Extract<Model['layers'][number], { type: 'polynomial' }>;
    expect(poly.approximation.stages.map((st) => st.coefficients.length - 1)).toEqual([2]);
    expect(evaluateModel(pann, loadMnistSplit('test')).accuracy).toBe(recorded(pann).test);
    expect(evaluateModel(pann, loadMnistSplit('validation')).accuracy).toBe(recorded(pann).validation);
    // within 0.5 points of the float network on both splits
    const float = recorded(loadModel(path('mnist-cnn1-relu')));
    expect(recorded(pann).test).toBeGreaterThanOrEqual(float.test - 0.005 - 1e-9);
    expect(recorded(pann).validation).toBeGreaterThanOrEqual(float.validation - 0.005 - 1e-9);
  });

  it('the AULU model learned its activation parameters', () => {
    const m = loadModel(path('mnist-cnn-aulu'));
    for (const i of [1, 4]) {
      const a = (m.layers[i] as { activation: { name: string; params: Record<string, number> } }).activation;
      expect(a.name).toBe('aulu');
      expect(a.params.b1 !== 1 || a.params.b2 !== 1).toBe(true);
    }
  });

  it('`pann eval --json` reproduces the recorded accuracy', () => {
    const out = execFileSync('node', [`${root}bin/pann.js`, 'eval', path('mnist-cnn-relu'), '--json'], { encoding: 'utf8' });
    const e = JSON.parse(out) as { accuracy: number; count: number; confusion: number[][]; perClass: { accuracy: number }[] };
    const m = loadModel(path('mnist-cnn-relu'));
    expect(e.count).toBe(1000);
    expect(e.accuracy).toBe(recorded(m).test);
    expect(e.confusion.flat().reduce((a, b) => a + b, 0)).toBe(1000);
    expect(e.perClass.length).toBe(10);
  });
});
