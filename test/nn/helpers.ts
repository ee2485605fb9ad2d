/** Small builders shared by the nn tests. */
import { activation } from '../../src/approx/activations.js';
import type { PolynomialApproximation } from '../../src/approx/polynomial.js';
import type { Layer } from '../../src/nn/model.js';
import { Prng } from '../../src/nn/prng.js';

export function randomArray(rng: Prng, n: number, scale = 1): Float64Array {
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.uniform(-scale, scale);
  return a;
}

export function dense(rng: Prng, inF: number, outF: number, scale = 0.5): Layer {
  return {
    type: 'dense',
    inFeatures: inF,
    outFeatures: outF,
    weight: randomArray(rng, inF * outF, scale),
    bias: randomArray(rng, outF, 0.1),
  };
}

export function conv(
  rng: Prng,
  inC: number,
  outC: number,
  k: [number, number],
  s: [number, number],
  p: [number, number],
  scale = 0.5,
): Layer {
  return {
    type: 'conv2d',
    inChannels: inC,
    outChannels: outC,
    kernel: k,
    stride: s,
    padding: p,
    weight: randomArray(rng, outC * inC * k[0] * k[1], scale),
    bias: randomArray(rng, outC, 0.1),
  };
}

export function act(spec: string, params: Record<string, number> = {}): Layer {
  return { type: 'activation', activation: activation(spec, params) };
}

/** Chebyshev interpolant of f at n+1 Chebyshev points of the first kind on [a, b] (c0 not halved). */
export function chebyshevFit(f: (x: number) => number, degree: number, a: number, b: number): number[] {
  const n = degree + 1;
  const fx = Array.from({ length: n }, (_, k) => f(((b - a) / 2) * Math.cos((Math.PI * (k + 0.5)) / n) + (a + b) / 2));
  return Array.from({ length: n }, (_, j) => {
    let s = 0;
    for (let k = 0; k < n; k++) s += fx[k]! * Math.cos((Math.PI * j * (k + 0.5)) / n);
    return ((j === 0 ? 1 : 2) / n) * s;
  });
}

/** A single-stage Chebyshev stand-in for ReLU on [−B, B]. */
export function reluPoly(B: number, degree = 8): PolynomialApproximation {
  const c = chebyshevFit((x) => Math.max(0, x), degree, -B, B);
  return { activation: 'relu', method: 'chebyshev', interval: [-B, B], stages: [{ interval: [-B, B], coefficients: c }], finish: 'none' };
}
