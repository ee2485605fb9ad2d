/**
 * A network deeper than any single modulus chain holds (issue 12): mnist-mlp7-relu has seven ReLU layers, so at
 * k = 7 its depth is 1 + 7·6 = 43, past the 32 levels one 128-bit chain holds (N = 32768). It does not compile as
 * one chain; with a refresh round before every activation layer each segment is one ReLU and one dense layer, and
 * the circuit runs under real SEAL. Three comparisons, each with its own tolerance:
 * - sim ≈ the float64 network with the compiler's own polynomials in place of ReLU, to 5e-4: the circuit computes
 *   that network, and only the rounding of x + r in float64 separates them (|x/B + r| < 2^33 at λ = 32 keeps
 *   2^−21 of x/B; through seven rounds and the layers after them, 2.6e-5 measured on these digits);
 * - SEAL ≈ sim, to 2e-3: CKKS noise at the 40-bit scale (about 2^−28 per rescale) and each run's own masks;
 *   measured 1.1e-4 to 2.4e-4 in four runs, and three orders of magnitude below the stand-ins' own errors;
 * - SEAL ≈ the float ReLU network within what stand-ins erring by at most their measured max error (≤ B·2^−k) can
 *   move each logit, to first order at this input; and the same class.
 */
import { describe, expect, it } from 'vitest';
import { CompileError } from '../../src/compiler/errors.js';
import { compileNetwork, type ApproximationProvider, type CompileOptions } from '../../src/compiler/compile.js';
import { fitterProvider, type ProvidedApproximation } from '../../src/compiler/polynomialise.js';
import { headDataset } from '../../src/nn/dataset.js';
import { predict } from '../../src/nn/inference.js';
import { loadMnistSplit } from '../../src/nn/mnist.js';
import { loadModel } from '../../src/nn/model-file.js';
import type { Layer, Model } from '../../src/nn/model.js';
import { argmaxOf, runSim } from '../../src/runtime/inference.js';
import { runSeal } from '../../src/runtime/seal-inference.js';

const K = 7;
const model = loadModel('models/mnist-mlp7-relu.json');
const cal = headDataset(loadMnistSplit('train'), 200);
const test = loadMnistSplit('test');
const fitter = fitterProvider();
const activationLayers = model.layers.flatMap((l, i) => (l.type === 'activation' ? [i] : []));
const everyLayer = activationLayers.map((_, n) => n);

/** Compile options whose provider records the polynomial it hands out for each activation layer, in order. */
function recording(): { options: CompileOptions; fits: ProvidedApproximation[] } {
  const fits: ProvidedApproximation[] = [];
  const provider: ApproximationProvider = (req) => {
    const fit = fitter(req);
    fits.push(fit);
    return fit;
  };
  const options = { precisionBits: K, calibration: { inputs: cal.inputs, count: cal.count, label: 'mnist train[0:200]' }, provider };
  return { options, fits };
}

/** The model with each ReLU replaced by the compiler's polynomial for it (no clamp), for float64 inference. */
function withPolynomials(m: Model, fits: readonly ProvidedApproximation[]): Model {
  let n = 0;
  const layers = m.layers.map((l): Layer =>
    l.type === 'activation' ? { type: 'polynomial', approximation: fits[n++]!.approximation, clamp: false } : l,
  );
  return { ...m, layers };
}

/**
 * First-order bound, per logit, on how far the logits of a flatten/dense/ReLU network move at `input` when
 * activation layer i errs by at most errors[i] per value: Σ_i Σ_c |∂logit/∂a_ic|·errors[i], with the derivatives
 * of the float network at that input.
 */
function firstOrderBounds(m: Model, input: Float64Array, errors: readonly number[]): number[] {
  expect(m.layers.every((l) => l.type === 'dense' || l.type === 'flatten' || l.type === 'activation')).toBe(true);
  const dense = m.layers.filter((l) => l.type === 'dense');
  const active: boolean[][] = []; // which hidden units the ReLU passes at this input
  let x = Array.from(input);
  dense.forEach((d, n) => {
    const z = Array.from({ length: d.outFeatures }, (_, r) => x.reduce((s, v, c) => s + d.weight[r * d.inFeatures + c]! * v, d.bias[r]!));
    if (n < dense.length - 1) active.push(z.map((v) => v > 0));
    x = z.map((v) => Math.max(0, v));
  });
  const classes = dense[dense.length - 1]!.outFeatures;
  const bounds = new Array<number>(classes).fill(0);
  // grad[a][r] = ∂logit_a/∂z_r for the pre-activations z of the dense layer after activation layer i
  let grad: number[][] = Array.from({ length: classes }, (_, a) => Array.from({ length: classes }, (_, r) => (a === r ? 1 : 0)));
  for (let i = dense.length - 2; i >= 0; i--) {
    const next = dense[i + 1]!;
    const wrtActivation = grad.map((g) =>
      Array.from({ length: next.inFeatures }, (_, c) => g.reduce((s, v, r) => s + v * next.weight[r * next.inFeatures + c]!, 0)),
    );
    wrtActivation.forEach((row, a) => (bounds[a]! += row.reduce((s, v) => s + Math.abs(v), 0) * errors[i]!));
    grad = wrtActivation.map((row) => row.map((v, c) => (active[i]![c] ? v : 0)));
  }
  return bounds;
}

describe('a network deeper than one chain (mnist-mlp7-relu, seven ReLU layers, k = 7)', () => {
  it('does not compile as a single chain: the error names the depth and what each ring holds; the search places rounds', () => {
    const { options } = recording();
    const refreshed = compileNetwork(model, { ...options, refresh: { before: everyLayer }, ringDimensions: [16384] });
    const depth = refreshed.report.depth;
    expect(depth).toBeGreaterThan(32);
    let error: unknown;
    try {
      compileNetwork(model, { ...options, refresh: { maxRounds: 0 } });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(CompileError);
    expect((error as Error).message).toMatch(
      new RegExp(
        `^no 128-bit CKKS parameters hold depth ${depth} at .*N=32768: .*holds at most 32 levels, at 25-bit scale.*--max-rounds 0 forbids`,
      ),
    );
    // by default the placement search splits it: one chain is a candidate that does not fit
    const auto = compileNetwork(model, options);
    expect(auto.report.refreshSearch!.considered[0]!.rejected).toMatch(/hold depth 43/);
    expect(auto.report.refresh!.rounds).toBeGreaterThanOrEqual(6);
    expect(auto.params.polyModulusDegree).toBeLessThanOrEqual(16384);
  });

  it('compiles with a round before every activation layer, and runs under SEAL as in sim and close to float', async () => {
    const { options, fits } = recording();
    // N = 16384: at N = 8192 the level a round reads holds 51 bits, short of 2^33 masks at a 21-bit scale (docs/refresh.md)
    const c = compileNetwork(model, { ...options, refresh: { before: everyLayer }, ringDimensions: [16384] });
    const segments = c.report.refresh!.segmentDepths;
    expect(c.report.refresh?.rounds).toBe(activationLayers.length);
    expect(c.params.maxLevel).toBe(Math.max(...segments) + 1); // the longest segment, and the level the masks need
    expect(segments.reduce((a, b) => a + b, 0)).toBe(c.report.depth);
    expect(fits).toHaveLength(activationLayers.length);
    c.report.activations.forEach((a) => expect(a.maxError).toBeLessThanOrEqual(a.B * 2 ** -K));

    const n = 8;
    const inputs = test.inputs.subarray(0, n * 784);
    const sim = runSim(c, inputs, n);
    const twin = predict(withPolynomials(model, fits), inputs);
    sim.forEach((r, i) => r.logits.forEach((v, j) => expect(Math.abs(v - twin[i * 10 + j]!)).toBeLessThan(5e-4)));

    const digit = test.inputs.subarray(0, 784);
    const { records } = await runSeal(c, digit, 1);
    const seal = records[0]!.logits;
    const float = predict(model, digit);
    const bounds = firstOrderBounds(
      model,
      digit,
      c.report.activations.map((a) => a.maxError),
    );
    seal.forEach((v, j) => {
      expect(Math.abs(v - sim[0]!.logits[j]!)).toBeLessThan(2e-3);
      expect(Math.abs(v - float[j]!)).toBeLessThan(bounds[j]!);
    });
    expect(records[0]!.prediction).toBe(sim[0]!.prediction);
    expect(records[0]!.prediction).toBe(argmaxOf(float));
    expect(records[0]!.prediction).toBe(test.labels[0]);
  }, 120_000);
});
