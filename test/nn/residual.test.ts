/**
 * Residual networks in the model (issue 13, part 1): a model is a DAG with its layers in topological order — a
 * layer reads the output of layers[from] (default: the one before), `add` sums it with layers[other]'s. Float64
 * inference follows the wiring (checked against the layers run one by one), backward sums the gradients of an
 * output read twice (checked against finite differences), the file format keeps it (version 2; chains stay
 * version 1), bad wiring is named, the CLI shows and evaluates it, and the compiler refuses it by name for now.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseActivation } from '../../src/approx/activations.js';
import { foldModel } from '../../src/compiler/fold.js';
import { predict } from '../../src/nn/inference.js';
import { checkModel, describeLayer, isSequential, modelShapes, type Layer, type Model } from '../../src/nn/model.js';
import { parseModel, serializeModel } from '../../src/nn/model-file.js';
import { Network } from '../../src/nn/network.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
}

/** Two residual blocks on 28×28 digits: an identity shortcut, then a strided one through a 1×1 convolution. */
function tinyResNet(seed = 7): Model {
  const rnd = lcg(seed);
  const arr = (n: number, s = 0.4) => Float64Array.from({ length: n }, () => rnd() * s);
  const conv = (cin: number, cout: number, k: number, stride: number, pad: number, from?: number): Layer => ({
    type: 'conv2d',
    inChannels: cin,
    outChannels: cout,
    kernel: [k, k],
    stride: [stride, stride],
    padding: [pad, pad],
    weight: arr(cout * cin * k * k),
    bias: arr(cout, 0.1),
    ...(from !== undefined ? { from } : {}),
  });
  const bn = (c: number): Layer => ({
    type: 'batchnorm',
    gamma: arr(c).map((v) => 1 + v),
    beta: arr(c, 0.1),
    mean: arr(c, 0.1),
    variance: arr(c).map((v) => 1 + Math.abs(v)),
    eps: 1e-5,
  });
  const relu: Layer = { type: 'activation', activation: parseActivation('relu') };
  return {
    name: 'tiny-resnet',
    inputShape: [1, 28, 28],
    layers: [
      conv(1, 2, 3, 2, 1), // 0: [2, 14, 14]
      { ...relu }, // 1
      conv(2, 2, 3, 1, 1), // 2
      bn(2), // 3
      { type: 'add', other: 1 }, // 4: identity shortcut
      { ...relu }, // 5
      conv(2, 4, 3, 2, 1), // 6: [4, 7, 7]
      bn(4), // 7
      { ...relu }, // 8
      conv(4, 4, 3, 1, 1), // 9
      conv(2, 4, 1, 2, 0, 5), // 10: the strided 1×1 shortcut, from the block input
      { type: 'add', from: 9, other: 10 }, // 11
      { ...relu }, // 12
      { type: 'globalavgpool' }, // 13: [4]
      { type: 'dense', inFeatures: 4, outFeatures: 10, weight: arr(40), bias: arr(10, 0.1) }, // 14
    ],
    metadata: {},
  };
}

/** The same model evaluated layer by layer, each a one-layer chain on the input its wiring names. */
function layerByLayer(model: Model, x: Float64Array): Float64Array {
  const shapes = modelShapes(model);
  const outs: Float64Array[] = [];
  const of = (ref: number) => (ref < 0 ? x : outs[ref]!);
  model.layers.forEach((layer, i) => {
    const from = layer.from ?? i - 1;
    const inShape = from < 0 ? model.inputShape : shapes[from]!;
    if (layer.type === 'add') {
      outs.push(of(from).map((v, k) => v + of(layer.other)[k]!));
      return;
    }
    const { from: _from, ...alone } = layer;
    outs.push(predict({ name: 'one', inputShape: inShape, layers: [alone], metadata: {} }, of(from).slice()).slice());
  });
  return outs[outs.length - 1]!;
}

const digits = Float64Array.from({ length: 3 * 784 }, (_, i) => (Math.sin(i * 0.37) + 1) / 2);

describe('residual networks', () => {
  const model = tinyResNet();

  it('shapes, checks and float64 inference follow the wiring', () => {
    checkModel(model);
    expect(isSequential(model)).toBe(false);
    expect(modelShapes(model)[10]).toEqual([4, 7, 7]);
    const got = predict(model, digits);
    for (let n = 0; n < 3; n++) {
      const want = layerByLayer(model, digits.subarray(n * 784, (n + 1) * 784));
      for (let j = 0; j < 10; j++) expect(got[n * 10 + j]).toBeCloseTo(want[j]!, 12);
    }
    expect(describeLayer(model.layers[10]!)).toBe('conv2d 2→4 k1×1 s2×2 p0×0 ← layers[5]');
    expect(describeLayer(model.layers[4]!)).toBe('add layers[1]');
  });

  it('backward sums the gradients of an output read twice (finite differences)', () => {
    const net = new Network(model);
    const x = digits.subarray(0, 2 * 784);
    const loss = () => net.forward(x, 2).reduce((s, v, k) => s + v * Math.cos(k), 0);
    net.zeroGrad();
    const y = net.forward(x, 2, { training: true });
    net.backward(
      Float64Array.from(y, (_, k) => Math.cos(k)),
      2,
    );
    // a weight before the first add (its output feeds both branches), one in the shortcut, one in the main branch
    for (const [layer, k] of [
      [0, 3],
      [10, 5],
      [6, 11],
      [3, 1],
    ] as const) {
      const group = net.ops[layer]!.params[0]!; // weight (batchnorm: gamma)
      const w = group.value;
      const h = 1e-6;
      const keep = w[k]!;
      w[k] = keep + h;
      const up = loss();
      w[k] = keep - h;
      const down = loss();
      w[k] = keep;
      const numeric = (up - down) / (2 * h);
      expect(Math.abs(group.grad[k]! - numeric)).toBeLessThan(1e-5 * Math.max(1, Math.abs(numeric)));
    }
  });

  it('the file keeps the wiring (version 2); chains stay version 1; bad wiring is named', () => {
    const text = serializeModel(model, { dtype: 'float64' });
    expect(JSON.parse(text).version).toBe(2);
    const back = parseModel(text, 'resnet.json');
    expect(back.layers.map((l) => l.from)).toEqual(model.layers.map((l) => l.from));
    expect(predict(back, digits)).toEqual(predict(model, digits));
    const chain = { ...model, layers: model.layers.slice(0, 4).concat(model.layers.slice(13, 15)) };
    chain.layers[4] = { type: 'globalavgpool' };
    chain.layers[5] = { ...(model.layers[14] as Extract<Layer, { type: 'dense' }>), inFeatures: 2, weight: new Float64Array(20) };
    expect(JSON.parse(serializeModel(chain)).version).toBe(1);
    const mutate = (f: (layers: Record<string, unknown>[]) => void) => {
      const j = JSON.parse(text) as { layers: Record<string, unknown>[] };
      f(j.layers);
      return () => parseModel(JSON.stringify(j), 'bad.json');
    };
    expect(mutate((l) => (l[3]!.from = 7))).toThrow(
      /layers\[3\]\.from: 7 is not an earlier layer \(0…2\) or −1 \(the model input\): a model is a DAG/,
    );
    expect(mutate((l) => (l[4]!.other = 4))).toThrow(/layers\[4\]\.other: 4 is not an earlier layer/);
    expect(mutate((l) => (l[11]!.other = 5))).toThrow(
      /layers\[11\] \(add\): adds \[4, 7, 7\] \(layers\[9\]\) and \[2, 14, 14\] \(layers\[5\]\); residual branches must have the same shape/,
    );
    expect(mutate((l) => (l[2]!.from = -2))).toThrow(/layers\[2\]\.from/);
  });

  it('the CLI shows and evaluates it, and the compiler folds each residual add into a skip term (test/compiler/residual.test.ts compiles one)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pann-resnet-'));
    const file = join(dir, 'tiny-resnet.json');
    writeFileSync(file, serializeModel(model));
    const pann = (...args: string[]) => spawnSync('node', [`${root}bin/pann.js`, ...args], { encoding: 'utf8', cwd: root });
    const info = pann('info', file);
    expect(info.status).toBe(0);
    expect(info.stdout).toContain('← layers[5]');
    expect(info.stdout).toContain('add layers[1]');
    const e = pann('eval', file, '--json');
    expect(e.status).toBe(0);
    expect(JSON.parse(e.stdout)).toMatchObject({ dataset: 'mnist:test', count: 1000 });
    const skips = foldModel(model).flatMap((blk) => (blk.kind === 'affine' && blk.skips ? [blk.skips.length] : []));
    // the first block's shortcut reads the activation right before its convolution, so the two merge into one map
    // (conv + identity); the strided block's shortcut reads an earlier value: a skip term
    expect(skips).toEqual([1]);
  });
});
