import { describe, expect, it } from 'vitest';
import { TrainError } from '../../src/errors.js';
import { buildModel, parseArchitecture } from '../../src/nn/architecture.js';
import { makeDataset, type Dataset } from '../../src/nn/dataset.js';
import { evaluateModel } from '../../src/nn/evaluate.js';
import { Prng } from '../../src/nn/prng.js';
import { learningRateAt } from '../../src/nn/schedule.js';
import { trainModel, type TrainProgress } from '../../src/nn/train.js';

const xor = makeDataset('xor', Float64Array.of(0, 0, 0, 1, 1, 0, 1, 1), Int32Array.of(0, 1, 1, 0), [2]);

/** Three Gaussian blobs in 2-D, well separated. */
function blobs(count: number, seed: number): Dataset {
  const rng = new Prng(seed);
  const centres = [
    [-2, 0],
    [2, 0],
    [0, 3],
  ];
  const x = new Float64Array(count * 2);
  const y = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const c = i % 3;
    x[2 * i] = centres[c]![0]! + 0.4 * rng.normal();
    x[2 * i + 1] = centres[c]![1]! + 0.4 * rng.normal();
    y[i] = c;
  }
  return makeDataset('blobs', x, y, [2]);
}

/** 6×6 images of a bar: horizontal (class 0) or vertical (class 1) at a random position. */
function bars(count: number, seed: number): Dataset {
  const rng = new Prng(seed);
  const x = new Float64Array(count * 36);
  const y = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const c = rng.int(2);
    const p = 1 + rng.int(4);
    for (let k = 0; k < 6; k++) x[i * 36 + (c === 0 ? p * 6 + k : k * 6 + p)] = 1;
    y[i] = c;
  }
  return makeDataset('bars', x, y, [1, 6, 6]);
}

describe('training', () => {
  it('a tiny MLP learns XOR to 100% (Adam and SGD with momentum)', () => {
    const m = buildModel('xor', [2], 'dense:8 act dense:2', { seed: 3, activation: 'tanh' });
    const adam = trainModel(m, xor, { epochs: 300, batchSize: 4, learningRate: 0.05, schedule: { name: 'constant' } });
    expect(evaluateModel(adam.model, xor).accuracy).toBe(1);
    const sgd = trainModel(m, xor, {
      epochs: 400,
      batchSize: 4,
      optimizer: 'sgd',
      learningRate: 0.2,
      momentum: 0.9,
      schedule: { name: 'constant' },
    });
    expect(evaluateModel(sgd.model, xor).accuracy).toBe(1);
    // the input model is untouched
    expect(evaluateModel(m, xor).accuracy).toBeLessThan(1);
  });

  it('learns blobs to 100% on held-out points, deterministically for a seed', () => {
    const train = blobs(300, 1);
    const test = blobs(150, 2);
    const m = buildModel('blobs', [2], 'dense:16 act dense:3', { seed: 1 });
    const opts = { epochs: 15, batchSize: 16, learningRate: 0.01, validation: test, seed: 4 };
    const a = trainModel(m, train, opts);
    const b = trainModel(m, train, opts);
    const c = trainModel(m, train, { ...opts, seed: 5 });
    expect(evaluateModel(a.model, test).accuracy).toBe(1);
    const w = (r: typeof a) => (r.model.layers[0] as { weight: Float64Array }).weight;
    expect(Array.from(w(a))).toEqual(Array.from(w(b)));
    expect(Array.from(w(a))).not.toEqual(Array.from(w(c)));
  });

  it('a small CNN with augmentation, Mixup, dropout and weight decay learns bar orientation', () => {
    const train = bars(400, 1);
    const test = bars(200, 2);
    const m = buildModel('bars', [1, 6, 6], 'conv2d:3:k3:s1:p1 act avgpool2d:k2 flatten dropout:0.1 dense:2', { seed: 2 });
    const r = trainModel(m, train, {
      epochs: 12,
      batchSize: 16,
      learningRate: 0.01,
      mixupAlpha: 0.2,
      augment: { shift: 1, rotate: 5, scale: 0.05 },
      weightDecay: 1e-4,
      validation: test,
    });
    expect(evaluateModel(r.model, test).accuracy).toBeGreaterThanOrEqual(0.97);
  });

  it('weight decay shrinks the weights', () => {
    const train = blobs(150, 3);
    const m = buildModel('wd', [2], 'dense:16 act dense:3', { seed: 1 });
    const norm = (mm: typeof m) => (mm.layers[0] as { weight: Float64Array }).weight.reduce((s, v) => s + v * v, 0);
    const plain = trainModel(m, train, { epochs: 20, learningRate: 0.01 });
    const decayed = trainModel(m, train, { epochs: 20, learningRate: 0.01, weightDecay: 0.1 });
    expect(norm(decayed.model)).toBeLessThan(0.8 * norm(plain.model));
  });

  it('learnable activation parameters move during training and stay valid', () => {
    const train = blobs(150, 4);
    const m = buildModel('aulu', [2], 'dense:8 act dense:3', { seed: 1, activation: 'aulu:b1=1,b2=1' });
    const r = trainModel(m, train, { epochs: 10, learningRate: 0.05 });
    const a = (r.model.layers[1] as { activation: { params: Record<string, number> } }).activation.params;
    expect(a.b1 !== 1 || a.b2 !== 1).toBe(true);
    expect(a.b1! * a.b2!).not.toBe(0);
  });

  it("distillation: with the teacher's weight the student learns the teacher's answers, not the labels", () => {
    const train = blobs(150, 4);
    // a teacher that has learned the blobs, and labels that are wrong for every third point
    const teacher = trainModel(buildModel('t', [2], 'dense:8 act dense:3', { seed: 2, activation: 'relu' }), train, {
      epochs: 20,
      learningRate: 0.05,
    }).model;
    expect(evaluateModel(teacher, train).accuracy).toBeGreaterThan(0.95);
    const noisy = makeDataset(
      'noisy',
      train.inputs,
      Int32Array.from(train.labels, (y, i) => (i % 3 === 0 ? (y + 1) % 3 : y)),
      [2],
    );
    const student = buildModel('s', [2], 'dense:8 act dense:3', { seed: 3, activation: 'relu' });
    const opts = { epochs: 20, learningRate: 0.05 };
    const fromLabels = trainModel(student, noisy, opts).model;
    const distilled = trainModel(student, noisy, { ...opts, teacher: { model: teacher, weight: 0.9, temperature: 2 } }).model;
    // on the clean labels (= the teacher's view) the distilled student is the better one
    expect(evaluateModel(distilled, train).accuracy).toBeGreaterThan(evaluateModel(fromLabels, train).accuracy + 0.05);
    expect(() => trainModel(student, noisy, { teacher: { model: teacher, weight: 1.5, temperature: 1 } })).toThrow(
      /teacher weight is out of range/,
    );
    expect(() => trainModel(student, noisy, { teacher: { model: teacher, weight: 0.5, temperature: 0 } })).toThrow(
      /teacher temperature is out of range/,
    );
    const wide = buildModel('w', [3], 'dense:4 act dense:3', { seed: 1, activation: 'relu' });
    expect(() => trainModel(student, noisy, { teacher: { model: wide, weight: 0.5, temperature: 1 } })).toThrow(
      /teacher 'w' maps 3 → 3, the model 2 → 3/,
    );
  });

  it('early stopping keeps the best validation epoch and reports progress', () => {
    const train = blobs(90, 5);
    const m = buildModel('es', [2], 'dense:4 act dense:3', { seed: 1 });
    const seen: TrainProgress[] = [];
    const r = trainModel(m, train, {
      epochs: 50,
      learningRate: 1e-12,
      schedule: { name: 'constant' },
      validation: blobs(30, 6),
      patience: 2,
      onProgress: (p) => seen.push(p),
    });
    expect(r.stoppedEarly).toBe(true);
    expect(r.history.length).toBe(3);
    expect(r.bestEpoch).toBe(0);
    expect(seen.filter((p) => p.phase === 'epoch').length).toBe(3);
    expect(seen.filter((p) => p.phase === 'batch').length).toBe(3 * 2);
    expect(seen.at(-1)!.validationAccuracy).toBeTypeOf('number');
    const best = trainModel(m, blobs(300, 7), { epochs: 6, learningRate: 0.02, validation: blobs(60, 8) });
    const top = Math.max(...best.history.map((h) => h.validationAccuracy!));
    expect(evaluateModel(best.model, blobs(60, 8)).accuracy).toBe(top);
    expect(best.history[best.bestEpoch]!.validationAccuracy).toBe(top);
  });

  it('divergence and bad options throw a TrainError naming the problem', () => {
    const m = buildModel('bad', [2], 'dense:4 act=square dense:4 act=square dense:3', { seed: 1 });
    expect(() => trainModel(m, blobs(30, 1), { epochs: 5, optimizer: 'sgd', learningRate: 1e6 })).toThrow(
      /training diverged .* lower the learning rate/,
    );
    expect(() => trainModel(m, blobs(30, 1), { epochs: 0 })).toThrow(TrainError);
    expect(() => trainModel(m, blobs(30, 1), { learningRate: -1 })).toThrow(/learningRate is out of range/);
    expect(() => trainModel(m, blobs(30, 1), { augment: { shift: 1 } })).toThrow(/augmentation needs an image model input/);
    expect(() => trainModel(m, xor)).not.toThrow();
    expect(() => trainModel(m, bars(4, 1))).toThrow(/do not fit model 'bad'/);
  });
});

describe('architecture text and schedules', () => {
  it('parses the compact architecture and reports bad tokens', () => {
    expect(parseArchitecture('conv2d:5:k5:s2:p1 act flatten dense:64 act=silu dense:10')).toEqual([
      { type: 'conv2d', out: 5, kernel: [5, 5], stride: [2, 2], padding: [1, 1] },
      { type: 'activation', activation: null },
      { type: 'flatten' },
      { type: 'dense', out: 64 },
      { type: 'activation', activation: 'silu' },
      { type: 'dense', out: 10 },
    ]);
    expect(() => parseArchitecture('dense:0')).toThrow(/'dense:0': output size must be a positive integer/);
    expect(() => parseArchitecture('lstm:4')).toThrow(/unknown layer 'lstm:4'/);
    expect(() => buildModel('x', [1, 4, 4], 'dense:3')).toThrow(/needs a flat input, got \[1, 4, 4\]; add flatten/);
    expect(() => buildModel('x', [4], 'act=nope dense:3')).toThrow(/act=nope: unknown activation 'nope'/);
  });

  it('cosine and step schedules, with warm-up', () => {
    expect(learningRateAt(1, 0, 10, { name: 'cosine' })).toBe(1);
    expect(learningRateAt(1, 5, 10, { name: 'cosine' })).toBeCloseTo(0.5, 12);
    expect(learningRateAt(1, 10, 10, { name: 'cosine' })).toBeCloseTo(0, 12);
    expect(learningRateAt(1, 0.5, 10, { name: 'cosine', warmupEpochs: 1 })).toBeCloseTo(0.501, 12);
    expect(learningRateAt(1, 25, 40, { name: 'step', stepEpochs: 10, gamma: 0.5 })).toBe(0.25);
    expect(learningRateAt(0.1, 3, 4, { name: 'constant' })).toBe(0.1);
  });
});
