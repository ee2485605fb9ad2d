import { describe, expect, it } from 'vitest';
import { activation } from '../../src/approx/activations.js';
import { evalApproximation } from '../../src/approx/polynomial.js';
import { DataError } from '../../src/errors.js';
import { argmax, predict, predictWithStats } from '../../src/nn/inference.js';
import { modelShapes, type Layer, type Model } from '../../src/nn/model.js';
import { Prng } from '../../src/nn/prng.js';
import { conv, dense, randomArray, reluPoly } from './helpers.js';

const f64 = (...v: number[]) => Float64Array.from(v);

describe('reference inference against hand-computed values', () => {
  it('conv2d: stride 2, padding 1, two input channels', () => {
    // input 2×3×3: channel 0 = 1..9, channel 1 = all 1
    const x = f64(1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 1, 1, 1, 1, 1, 1, 1, 1);
    // one output channel, 2×2 kernel: channel 0 weights [[1, 0], [0, -1]], channel 1 weights all 0.5, bias 10
    const m: Model = {
      name: 'c',
      inputShape: [2, 3, 3],
      layers: [
        {
          type: 'conv2d',
          inChannels: 2,
          outChannels: 1,
          kernel: [2, 2],
          stride: [2, 2],
          padding: [1, 1],
          weight: f64(1, 0, 0, -1, 0.5, 0.5, 0.5, 0.5),
          bias: f64(10),
        },
      ],
      metadata: {},
    };
    expect(modelShapes(m)).toEqual([[1, 2, 2]]);
    // output (oy, ox) sees padded rows 2oy−1..2oy and columns 2ox−1..2ox; only real pixels count:
    // (0,0): ch0 −1·x(0,0) = −1,            ch1 one pixel · 0.5 = 0.5  → 10 − 1 + 0.5 = 9.5
    // (0,1): ch0 0·x(0,1) − 1·x(0,2) = −3,  ch1 two pixels = 1        → 8
    // (1,0): ch0 0·x(1,0) − 1·x(2,0) = −7,  ch1 two pixels = 1        → 4
    // (1,1): ch0 x(1,1) − x(2,2) = 5 − 9,   ch1 four pixels = 2       → 8
    const y = predict(m, x);
    expect(Array.from(y)).toEqual([9.5, 8, 4, 8]);
  });

  it('avgpool2d divides by the full kernel size, also over padding', () => {
    const x = f64(1, 2, 3, 4, 5, 6, 7, 8, 9);
    const m: Model = {
      name: 'p',
      inputShape: [1, 3, 3],
      layers: [{ type: 'avgpool2d', kernel: [2, 2], stride: [2, 2], padding: [1, 1] }],
      metadata: {},
    };
    // windows: {1} {2,3} {4,7} {5,6,8,9} each / 4
    expect(Array.from(predict(m, x))).toEqual([0.25, 1.25, 2.75, 7]);
    const m2: Model = {
      name: 'p',
      inputShape: [1, 3, 3],
      layers: [{ type: 'avgpool2d', kernel: [2, 2], stride: [1, 1], padding: [0, 0] }],
      metadata: {},
    };
    expect(Array.from(predict(m2, x))).toEqual([3, 4, 6, 7]);
  });

  it('globalavgpool, flatten in C-H-W order, batchnorm, dense', () => {
    const x = f64(1, 2, 3, 4, 10, 20, 30, 40);
    const gap: Model = { name: 'g', inputShape: [2, 2, 2], layers: [{ type: 'globalavgpool' }], metadata: {} };
    expect(Array.from(predict(gap, x))).toEqual([2.5, 25]);
    const fl: Model = {
      name: 'f',
      inputShape: [2, 2, 2],
      layers: [{ type: 'flatten' }, { type: 'dense', inFeatures: 8, outFeatures: 1, weight: f64(0, 0, 0, 0, 1, 0, 0, 0), bias: f64(0) }],
      metadata: {},
    };
    expect(Array.from(predict(fl, x))).toEqual([10]);
    const bn: Model = {
      name: 'b',
      inputShape: [2, 1, 2],
      layers: [{ type: 'batchnorm', gamma: f64(2, 1), beta: f64(1, -1), mean: f64(1, 0), variance: f64(3.99, 0.24), eps: 0.01 }],
      metadata: {},
    };
    // channel 0: 2·(x − 1)/2 + 1 = x; channel 1: (x − 0)/0.5 − 1 = 2x − 1
    const y = predict(bn, f64(3, 5, 1, 2));
    expect(y[0]).toBeCloseTo(3, 14);
    expect(y[1]).toBeCloseTo(5, 14);
    expect(y[2]).toBeCloseTo(1, 14);
    expect(y[3]).toBeCloseTo(3, 14);
    const d: Model = {
      name: 'd',
      inputShape: [2],
      layers: [{ type: 'dense', inFeatures: 2, outFeatures: 3, weight: f64(1, 2, 3, 4, 5, 6), bias: f64(0.5, 0, -1) }],
      metadata: {},
    };
    expect(Array.from(predict(d, f64(1, -1, 2, 0.5)))).toEqual([-0.5, -1, -2, 3.5, 8, 12]);
  });

  it('activation, polynomial (clamped or not) and dropout (identity at inference)', () => {
    const approx = reluPoly(2, 6);
    const m = (clamp: boolean): Model => ({
      name: 'a',
      inputShape: [4],
      layers: [
        { type: 'activation', activation: activation('ulu', { a1: 0.5, a2: 2 }) },
        { type: 'dropout', rate: 0.5 },
        { type: 'polynomial', approximation: approx, clamp },
      ],
      metadata: {},
    });
    const x = f64(-1, 0.5, 1.5, 3);
    const ulu = activation('ulu', { a1: 0.5, a2: 2 });
    const y = predict(m(false), x);
    const yc = predict(m(true), x);
    x.forEach((v, i) => {
      const u = ulu.f(v);
      expect(y[i]).toBe(evalApproximation(approx, u));
      expect(yc[i]).toBe(evalApproximation(approx, Math.min(2, u)));
    });
  });
});

describe('batched prediction', () => {
  const rng = new Prng(5);
  const layers: Layer[] = [
    conv(rng, 1, 3, [3, 3], [2, 2], [1, 1]),
    { type: 'activation', activation: activation('relu') },
    { type: 'flatten' },
    dense(rng, 3 * 4 * 4, 5),
  ];
  const m: Model = { name: 'b', inputShape: [1, 8, 8], layers, metadata: {} };
  const x = randomArray(rng, 37 * 64);

  it('the result does not depend on the batch size', () => {
    const all = predict(m, x, 1000);
    for (const bs of [1, 4, 37]) expect(Array.from(predict(m, x, { batchSize: bs }))).toEqual(Array.from(all));
    expect(all.length).toBe(37 * 5);
  });

  it('stats count polynomial inputs outside [-B, B]', () => {
    const pm: Model = {
      ...m,
      layers: [layers[0]!, { type: 'polynomial', approximation: reluPoly(0.5), clamp: false }, layers[2]!, layers[3]!],
    };
    const r = predictWithStats(pm, x);
    const s = r.stats[0]!;
    let outside = 0;
    let count = 0;
    predict(pm, x, {
      onLayer: (i, input) => {
        if (i !== 1) return;
        count += input.length;
        for (const v of input) if (Math.abs(v) > 0.5) outside++;
      },
    });
    expect(s.layer).toBe(1);
    expect(s.count).toBe(37 * 3 * 16);
    expect(s.count).toBe(count);
    expect(s.outside).toBe(outside);
    expect(outside).toBeGreaterThan(0);
    expect(s.fractionOutside).toBeCloseTo(outside / count, 15);
    expect(s.min).toBeLessThan(-0.5);
  });

  it('argmax picks the largest logit per row', () => {
    expect(Array.from(argmax(f64(1, 3, 2, 5, 0, 5), 3))).toEqual([1, 0]);
  });

  it('bad inputs throw a DataError naming the problem', () => {
    expect(() => predict(m, new Float64Array(65))).toThrow(DataError);
    expect(() => predict(m, new Float64Array(65))).toThrow(
      /65 values is not a whole number of inputs of shape \[1, 8, 8\] \(64 values each\)/,
    );
    const bad = new Float64Array(128);
    bad[70] = NaN;
    expect(() => predict(m, bad)).toThrow(/value 6 of input 1 is NaN/);
    expect(() => predict(m, x, 0)).toThrow(/batchSize must be a positive integer/);
  });
});
