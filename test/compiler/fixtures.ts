/** Shared fixtures for compiler and runtime tests: a tiny conv network and a fixed-degree minimax provider. */
import { parseActivation } from '../../src/approx/activations.js';
import type { PolynomialApproximation } from '../../src/approx/polynomial.js';
import { fitMinimax } from '../../src/approx/remez.js';
import { applyAffine } from '../../src/compiler/affine.js';
import type { ApproximationProvider } from '../../src/compiler/compile.js';
import type { NetBlock } from '../../src/compiler/fold.js';
import type { Model } from '../../src/nn/model.js';

export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
}

/** conv(1→2, 3×3, stride 2, pad 1) → act1 → flatten → dense(32→8) → act2 → dense(8→3) on an 8×8 input. */
export function tinyModel(act1: string, act2: string, seed = 5): Model {
  const rnd = lcg(seed);
  const arr = (n: number, s = 0.5) => Float64Array.from({ length: n }, () => rnd() * s);
  return {
    name: 'tiny',
    inputShape: [1, 8, 8],
    layers: [
      {
        type: 'conv2d',
        inChannels: 1,
        outChannels: 2,
        kernel: [3, 3],
        stride: [2, 2],
        padding: [1, 1],
        weight: arr(18, 0.8),
        bias: arr(2),
      },
      {
        type: 'batchnorm',
        gamma: arr(2, 1).map((v) => 1 + v),
        beta: arr(2),
        mean: arr(2),
        variance: arr(2).map((v) => 1 + Math.abs(v)),
        eps: 1e-5,
      },
      { type: 'activation', activation: parseActivation(act1) },
      { type: 'flatten' },
      { type: 'dense', inFeatures: 32, outFeatures: 8, weight: arr(256, 0.4), bias: arr(8) },
      { type: 'dropout', rate: 0.1 },
      { type: 'activation', activation: parseActivation(act2) },
      { type: 'dense', inFeatures: 8, outFeatures: 3, weight: arr(24, 0.8), bias: arr(3) },
    ],
    metadata: {},
  };
}

/** Minimax fits at a fixed degree per precision (the real precision search lives in src/approx). */
export const provider: ApproximationProvider = ({ activation, B, precisionBits }) => {
  const degree = Math.min(31, 2 ** Math.ceil(Math.log2(precisionBits + 1)) + 1);
  const fit = fitMinimax((x) => activation.f(x), { intervals: [[-B, B]], degree, parity: activation.parity });
  const approximation: PolynomialApproximation = {
    activation: activation.toString(),
    method: 'remez',
    interval: [-B, B],
    stages: [fit.polynomial],
    finish: 'none',
  };
  return { approximation, maxError: fit.maxWeightedError, source: 'test fit' };
};

/** The folded network in float64 with activation layer n replaced by `activate(n, x)`. */
export function polyNetwork(blocks: NetBlock[], x: Float64Array, activate: (n: number, t: number) => number): Float64Array {
  let v: Float64Array = Float64Array.from(x);
  let n = 0;
  for (const b of blocks) {
    if (b.kind === 'affine') v = applyAffine(b.map, v);
    else {
      const k = n++;
      v = v.map((t) => activate(k, t));
    }
  }
  return v;
}

export function inputs(count: number, seed: number): Float64Array {
  const rnd = lcg(seed);
  return Float64Array.from({ length: count * 64 }, () => (rnd() + 1) / 2);
}
