/**
 * Residual networks in the compiler (issue 13, part 5): the DAG fold (a residual add becomes a skip term of the
 * linear layer before the next activation), the float walk of the folded blocks, and a compiled residual CNN run
 * in sim and with real SEAL, whose refresh rounds carry the shortcut values.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseActivation } from '../../src/approx/activations.js';
import { walkBlocks } from '../../src/compiler/calibrate.js';
import { compileNetwork } from '../../src/compiler/compile.js';
import { foldModel } from '../../src/compiler/fold.js';
import { parseCircuit, refreshRounds, serializeCircuit } from '../../src/circuit/index.js';
import { importOnnx } from '../../src/nn/onnx/import.js';
import type { Layer, Model } from '../../src/nn/model.js';
import { predict } from '../../src/nn/inference.js';
import { runSeal, runSim } from '../../src/runtime/index.js';
import { describeModel, parseModelDescription } from '../../src/server/model-description.js';
import { lcg, provider } from './fixtures.js';

/** count 10×10 inputs in [0, 1], seeded. */
function inputs(count: number, seed: number): Float64Array {
  const rnd = lcg(seed);
  return Float64Array.from({ length: count * 100 }, () => (rnd() + 1) / 2);
}

/**
 * A residual CNN on 10×10: a stem, an identity block and a downsampling block (3×3 stride 2 plus a strided 1×1
 * shortcut), a global average pool and a dense layer — a ResNet in miniature.
 */
function tinyResNet(seed = 3): Model {
  const rnd = lcg(seed);
  const arr = (n: number, s: number) => Float64Array.from({ length: n }, () => rnd() * s);
  const conv = (ci: number, co: number, k: number, stride: number, from?: number): Layer => ({
    type: 'conv2d',
    inChannels: ci,
    outChannels: co,
    kernel: [k, k],
    stride: [stride, stride],
    padding: [(k - 1) / 2, (k - 1) / 2],
    weight: arr(co * ci * k * k, 1.2 / Math.sqrt(ci * k * k)),
    bias: arr(co, 0.2),
    ...(from !== undefined ? { from } : {}),
  });
  const relu = (): Layer => ({ type: 'activation', activation: parseActivation('relu') });
  return {
    name: 'tiny-resnet',
    inputShape: [1, 10, 10],
    layers: [
      conv(1, 2, 3, 1), // 0
      relu(), // 1
      conv(2, 2, 3, 1), // 2
      relu(), // 3
      conv(2, 2, 3, 1), // 4
      { type: 'add', other: 1 }, // 5
      relu(), // 6
      conv(2, 4, 3, 2), // 7
      relu(), // 8
      conv(4, 4, 3, 1), // 9
      conv(2, 4, 1, 2, 6), // 10: the shortcut, from layers[6]
      { type: 'add', from: 9, other: 10 }, // 11
      relu(), // 12
      { type: 'globalavgpool' }, // 13
      { type: 'dense', inFeatures: 4, outFeatures: 3, weight: arr(12, 1), bias: arr(3, 0.2) }, // 14
    ],
    metadata: {},
  };
}

/** The folded blocks in float64, exact activations: must equal the model's own inference. */
function foldedLogits(model: Model, x: Float64Array, count: number, inDim: number): Float64Array {
  const out: number[] = [];
  walkBlocks(
    foldModel(model),
    x,
    count,
    inDim,
    () => {},
    (y) => out.push(...y),
  );
  return Float64Array.from(out);
}

describe('residual networks: fold', () => {
  it('turns each residual add into a skip term of the linear layer before the next activation', () => {
    const blocks = foldModel(tinyResNet());
    expect(blocks.map((b) => b.kind)).toEqual([
      ...['affine', 'activation', 'affine', 'activation', 'affine', 'activation', 'affine', 'activation', 'affine', 'activation'],
      'affine',
    ]);
    const withSkips = blocks.flatMap((b, i) => (b.kind === 'affine' && b.skips ? [[i, b.skips.map((t) => t.from)]] : []));
    // conv#4 + relu#1's output (block 1); conv#9 + the 1×1 shortcut of relu#6's output (block 5)
    expect(withSkips).toEqual([
      [4, [1]],
      [8, [5]],
    ]);
    expect(blocks[8]!.name).toBe('conv2d#9+conv2d#10+add#11');
    // the stride-2 conv keeps its geometry for packing; a block with a skip is not "a conv on the input"
    expect(blocks[6]!.kind === 'affine' && blocks[6]!.geometry?.stride).toEqual([2, 2]);
  });

  it('computes what the model computes (float64), for a residual CNN and for ONNX ResNet and MLP imports', () => {
    const model = tinyResNet();
    const x = inputs(5, 9);
    const want = predict(model, x);
    const got = foldedLogits(model, x, 5, 100);
    for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i]!, 10);
    for (const name of ['resnet', 'mlp-residual']) {
      const imported = importOnnx(readFileSync(`test/fixtures/onnx/${name}.onnx`), { name }).model;
      const inDim = imported.inputShape.reduce((a, b) => a * b, 1);
      const xs = Float64Array.from({ length: 3 * inDim }, (_, i) => ((i * 7919) % 101) / 101);
      const ref = predict(imported, xs);
      const folded = foldedLogits(imported, xs, 3, inDim);
      for (let i = 0; i < ref.length; i++) expect(Math.abs(folded[i]! - ref[i]!)).toBeLessThan(1e-9 * (1 + Math.abs(ref[i]!)));
    }
  });

  it('refuses branches that do not rejoin before the next activation, naming the layer', () => {
    const model = tinyResNet();
    // relu#3 reads layers[1] directly instead of conv#2: the activation just before it (relu#1's block) is skipped
    const layers = model.layers.map((l, i) => (i === 3 ? { ...l, from: 0 } : l));
    expect(() => foldModel({ ...model, layers })).toThrow(/layers\[3\].*does not read the activation just before it/);
  });
});

describe('residual networks: compile and run', () => {
  const model = tinyResNet();
  const calibration = { inputs: inputs(64, 21), count: 64, label: 'test' };
  const circuit = compileNetwork(model, { precisionBits: 8, provider, calibration, ringDimensions: [4096, 8192] });

  it('carries each live shortcut value through the refresh rounds, relaid for its reader when that is cheaper', () => {
    const rounds = refreshRounds(circuit);
    expect(rounds.length).toBeGreaterThan(0);
    // a round between a shortcut's source and its reader has one ciphertext more than the main path needs
    expect(rounds.some((r) => r.sources.length > 1)).toBe(true);
    const stage = circuit.stages.find((s) => s.name === 'conv2d#4+add#5')!;
    expect(stage.detail['skips']).toHaveLength(1);
    // the circuit file keeps per-ciphertext relayouts, and the description the server sends carries them
    const again = parseCircuit(serializeCircuit(circuit));
    expect(again.relayouts).toEqual(circuit.relayouts);
    const described = parseModelDescription(JSON.parse(JSON.stringify(describeModel('tiny', circuit))));
    expect(described.rounds.length).toBe(rounds.length);
  });

  it('sim computes the polynomial network (the float model with its stand-ins) and SEAL follows sim', async () => {
    // the same stand-ins the compile fitted (same provider, same B), as polynomial layers of the float model
    let n = 0;
    const layers = model.layers.map((l): Layer => {
      if (l.type !== 'activation') return l;
      const a = circuit.report.activations[n++]!;
      return {
        type: 'polynomial',
        clamp: false,
        approximation: provider({ activation: l.activation, B: a.B, precisionBits: 8, method: 'auto' }).approximation,
      };
    });
    const x = calibration.inputs.subarray(0, 6 * 100); // inside the calibrated ranges
    const want = predict({ ...model, layers }, x);
    const sim = runSim(circuit, x, 6);
    const scale = Math.max(...want.map(Math.abs));
    let worst = 0;
    sim.forEach((r, i) => r.logits.forEach((v, k) => (worst = Math.max(worst, Math.abs(v - want[i * 3 + k]!)))));
    expect(worst / scale).toBeLessThan(1e-6);
    const seal = await runSeal(circuit, x.subarray(0, 2 * 100), 2);
    seal.records.forEach((r, i) => {
      for (let k = 0; k < 3; k++) expect(Math.abs(r.logits[k]! - sim[i]!.logits[k]!)).toBeLessThan(1e-2 * scale);
      expect(r.prediction).toBe(sim[i]!.prediction);
    });
  }, 120_000);

  it('keeps the Galois keys within a memory budget: the most used steps exact, the others sums of ±2^i steps', () => {
    // the ONNX ResNet-8 fixture (4/8/16 channels on 28×28) uses over a hundred distinct rotation steps
    const resnet = importOnnx(readFileSync('test/fixtures/onnx/resnet.onnx'), { name: 'resnet' }).model;
    const cal = { inputs: Float64Array.from({ length: 16 * 784 }, (_, i) => ((i * 7919) % 255) / 255), count: 16, label: 'test' };
    const options = { precisionBits: 6, provider, calibration: cal, refresh: { before: [1, 2, 3, 4, 5, 6] } };
    const exact = compileNetwork(resnet, options);
    const slots = exact.params.slotCount;
    const perKey = (2 * exact.report.predicted.galoisKeyBytes) / exact.rotationSteps.length; // unseeded: twice the upload
    const base = 2 * Math.log2(slots) - 1; // ±2^i
    expect(exact.rotationSteps.length).toBeGreaterThan(base + 10);
    const fitted = compileNetwork(resnet, { ...options, galoisKeyMemory: perKey * (base + 10) });
    expect(fitted.rotationSteps.length).toBeLessThanOrEqual(base + 10);
    expect(fitted.report.notes.join(' ')).toMatch(
      /rotation keys: \d+ distinct steps would need .* GiB of Galois keys in SEAL's memory; \d+ most used steps keep their own key, the others are sums of ±2\^i steps/,
    );
    expect(fitted.report.opCounts.rotations).toBeGreaterThan(exact.report.opCounts.rotations);
    // the same network: both circuits compute the same logits
    const x = cal.inputs.subarray(0, 2 * 784);
    const a = runSim(exact, x, 2);
    const b = runSim(fitted, x, 2);
    a.forEach((r, i) => r.logits.forEach((v, k) => expect(Math.abs(v - b[i]!.logits[k]!)).toBeLessThan(1e-6)));
  }, 300_000);

  it('refuses throughput mode for a residual network', () => {
    expect(() => compileNetwork(model, { precisionBits: 8, provider, calibration, mode: 'throughput' })).toThrow(
      /residual connections; throughput mode/,
    );
  });
});
