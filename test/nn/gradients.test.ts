import { describe, expect, it } from 'vitest';
import { oneHot, softmaxCrossEntropy } from '../../src/nn/loss.js';
import type { Layer, Model } from '../../src/nn/model.js';
import { Network } from '../../src/nn/network.js';
import { Prng } from '../../src/nn/prng.js';
import { act, conv, dense, randomArray, reluPoly } from './helpers.js';

const N = 3;
const CLASSES = 4;

function lossAt(net: Network, x: Float64Array, targets: Float64Array, penalty: number): number {
  const logits = net.forward(x, N, { training: true, rng: new Prng(7), rangePenalty: penalty });
  return softmaxCrossEntropy(logits, N, CLASSES, targets, null) + net.penalty();
}

/**
 * Compare back-propagated gradients with central finite differences for every parameter entry (or a sample of
 * them), perturbing the stored values and rebuilding activations (sync) for learnable activation parameters.
 */
function gradCheck(model: Model, seed = 3, penalty = 0): { checked: number; worst: number } {
  const net = new Network(model);
  const rng = new Prng(seed);
  const x = randomArray(rng, N * net.inputSize, 1.5);
  const labels = Int32Array.from({ length: N }, (_, i) => i % CLASSES);
  const targets = oneHot(labels, N, CLASSES, new Float64Array(N * CLASSES));
  net.zeroGrad();
  const logits = net.forward(x, N, { training: true, rng: new Prng(7), rangePenalty: penalty });
  const d = new Float64Array(N * CLASSES);
  softmaxCrossEntropy(logits, N, CLASSES, targets, d);
  net.backward(d, N);
  let worst = 0;
  let checked = 0;
  for (const p of net.params()) {
    const analytic = p.grad.slice();
    const step = Math.max(1, Math.floor(p.value.length / 25));
    for (let i = 0; i < p.value.length; i += step) {
      const v = p.value[i]!;
      const h = 1e-6 * Math.max(1, Math.abs(v));
      p.value[i] = v + h;
      net.sync();
      const up = lossAt(net, x, targets, penalty);
      p.value[i] = v - h;
      net.sync();
      const down = lossAt(net, x, targets, penalty);
      p.value[i] = v;
      net.sync();
      const numeric = (up - down) / (2 * h);
      const err = Math.abs(numeric - analytic[i]!) / Math.max(1e-4, Math.abs(numeric) + Math.abs(analytic[i]!));
      worst = Math.max(worst, err);
      checked++;
      if (err > 1e-4) throw new Error(`${p.name}[${i}]: analytic ${analytic[i]} vs numeric ${numeric}`);
    }
  }
  return { checked, worst };
}

function model(inputShape: number[], layers: Layer[]): Model {
  return { name: 'g', inputShape, layers, metadata: {} };
}

describe('gradients match finite differences', () => {
  const rng = new Prng(11);

  it('dense + tanh + dense', () => {
    const r = gradCheck(model([5], [dense(rng, 5, 6), act('tanh'), dense(rng, 6, CLASSES)]));
    expect(r.checked).toBeGreaterThan(30);
    expect(r.worst).toBeLessThan(1e-4);
  });

  it('conv2d with stride, padding and several channels, then avgpool2d, flatten, dense', () => {
    const r = gradCheck(
      model(
        [2, 7, 6],
        [
          conv(rng, 2, 3, [3, 2], [2, 1], [1, 1]),
          act('gelu'),
          { type: 'avgpool2d', kernel: [2, 2], stride: [1, 2], padding: [1, 0] },
          { type: 'flatten' },
          dense(rng, 3 * 5 * 3, CLASSES),
        ],
      ),
    );
    expect(r.checked).toBeGreaterThan(40);
  });

  it('two convolutions (input gradient through conv2d), global average pooling', () => {
    gradCheck(
      model(
        [1, 6, 6],
        [
          conv(rng, 1, 2, [3, 3], [1, 1], [1, 1]),
          act('softplus'),
          conv(rng, 2, 3, [2, 2], [2, 2], [0, 0]),
          { type: 'globalavgpool' },
          dense(rng, 3, CLASSES),
        ],
      ),
    );
  });

  it('batchnorm (inference form, trainable γ and β) on images and on features', () => {
    const bn = (c: number): Layer => ({
      type: 'batchnorm',
      gamma: randomArray(rng, c, 1).map((v) => 1 + 0.5 * v),
      beta: randomArray(rng, c, 0.3),
      mean: randomArray(rng, c, 0.2),
      variance: randomArray(rng, c, 0.5).map((v) => 1 + v),
      eps: 1e-5,
    });
    gradCheck(
      model(
        [1, 4, 4],
        [
          conv(rng, 1, 2, [3, 3], [1, 1], [0, 0]),
          bn(2),
          act('silu'),
          { type: 'flatten' },
          dense(rng, 8, 5),
          bn(5),
          act('tanh'),
          dense(rng, 5, CLASSES),
        ],
      ),
    );
  });

  it('dropout (same mask in every pass from the same seed)', () => {
    gradCheck(model([6], [dense(rng, 6, 8), act('sigmoid'), { type: 'dropout', rate: 0.3 }, dense(rng, 8, CLASSES)]));
  });

  it('learnable activation parameters: AULU b1/b2, xIELU ap/an, LSLU theta/omega, SiLU beta', () => {
    for (const [spec, params] of [
      ['aulu', { b1: 0.8, b2: 1.3 }],
      ['xielu', { ap: 0.7, an: 0.9 }],
      ['lslu', { theta: 1.2, omega: 0.1 }],
      ['silu', { beta: 1.4 }],
    ] as const) {
      const m = model([4], [dense(rng, 4, 7), act(spec, params), dense(rng, 7, 5), act(spec, params), dense(rng, 5, CLASSES)]);
      const net = new Network(m);
      const names = net.params().map((p) => p.name);
      expect(names.filter((n) => n.includes('.activation.')).length).toBeGreaterThanOrEqual(2);
      gradCheck(m, 5);
    }
  });

  it('ULU (fixed parameters) and ReLU away from the kink', () => {
    gradCheck(model([4], [dense(rng, 4, 6), act('ulu', { a1: 0.5, a2: 2 }), dense(rng, 6, 6), act('relu'), dense(rng, 6, CLASSES)]), 9);
  });

  it('polynomial layers: plain, clamped, composite with relu finish, and the range penalty', () => {
    const composite = {
      activation: 'relu',
      method: 'composite' as const,
      interval: [-1, 1] as [number, number],
      stages: [
        { interval: [-1, 1] as [number, number], coefficients: [0, 1.2, 0, -0.3] },
        { interval: [-1, 1] as [number, number], coefficients: [0, 1.1, 0, -0.2] },
      ],
      finish: 'relu' as const,
    };
    const layers = (clamp: boolean): Layer[] => [
      dense(rng, 4, 6, 0.8),
      { type: 'polynomial', approximation: reluPoly(1.5), clamp },
      dense(rng, 6, 6, 0.15),
      { type: 'polynomial', approximation: composite, clamp },
      dense(rng, 6, CLASSES),
    ];
    // some inputs of the first polynomial fall outside [-1.5, 1.5]: clamping and the penalty both matter
    const m = model([4], layers(false));
    const outside = new Network(m);
    let out = 0;
    outside.forward(randomArray(new Prng(3), N * 4, 1.5), N, {
      onLayer: (i, input) => {
        if (i === 1) for (const v of input) if (Math.abs(v) > 1.5) out++;
      },
    });
    expect(out).toBeGreaterThan(0);
    gradCheck(m);
    gradCheck(model([4], layers(true)));
    gradCheck(model([4], layers(false)), 3, 0.5);
    gradCheck(model([4], layers(true)), 3, 0.5);
  });
});
