/**
 * Refresh points in the compiler: a round before an activation layer splits the network into segments, the chain
 * holds the longest segment (plus the level the masked values need), the circuit computes what the single-chain
 * circuit computes (sim, exact), and SEAL agrees with sim; bad requests and the float64 bound are refused.
 */
import { describe, expect, it } from 'vitest';
import { compileNetwork, type CompileOptions } from '../../src/compiler/compile.js';
import { fitterProvider } from '../../src/compiler/polynomialise.js';
import { headDataset } from '../../src/nn/dataset.js';
import { loadMnistSplit } from '../../src/nn/mnist.js';
import { loadModel } from '../../src/nn/model-file.js';
import { runSim } from '../../src/runtime/inference.js';
import { runSeal } from '../../src/runtime/seal-inference.js';

const cal = headDataset(loadMnistSplit('train'), 200);
const test = loadMnistSplit('test');
const provider = fitterProvider();
const base = (k: number): CompileOptions => ({
  precisionBits: k,
  calibration: { inputs: cal.inputs, count: cal.count, label: 'mnist train[0:200]' },
  provider,
});
const digits = (n: number) => test.inputs.subarray(0, n * 784);

describe('refresh points', () => {
  const cnn = loadModel('models/mnist-cnn-relu.json');

  it('the two-layer ReLU CNN at k = 7: one round halves the chain, and the circuit computes the same logits', () => {
    const single = compileNetwork(cnn, base(7));
    const refreshed = compileNetwork(cnn, { ...base(7), refresh: { before: [1] } });
    expect(single.report.refresh).toBeUndefined();
    expect(refreshed.report.refresh).toEqual({ rounds: 1, beforeLayers: [1], maskBits: 32, segmentDepths: [7, 6] });
    expect(single.params.maxLevel).toBe(13);
    expect(refreshed.params.maxLevel).toBe(8); // the first segment's 7 levels, and one for the masked values
    expect(refreshed.ops.filter((o) => o.op === 'refresh')).toHaveLength(1);
    expect(refreshed.report.predicted.latencyMs).toBeLessThan(0.7 * single.report.predicted.latencyMs);
    expect(refreshed.report.predicted.evaluationKeyUploadBytes).toBeLessThan(single.report.predicted.evaluationKeyUploadBytes);
    const a = runSim(single, digits(20), 20);
    const b = runSim(refreshed, digits(20), 20);
    for (let n = 0; n < 20; n++) {
      expect(b[n]!.prediction).toBe(a[n]!.prediction);
      for (let j = 0; j < 10; j++) expect(Math.abs(b[n]!.logits[j]! - a[n]!.logits[j]!)).toBeLessThan(1e-3);
    }
  });

  it('under SEAL a refreshed circuit agrees with sim (the MLP, refreshed before its activation)', async () => {
    const mlp = loadModel('models/mnist-mlp-relu.json');
    const c = compileNetwork(mlp, { ...base(6), refresh: { before: [0] } });
    expect(c.report.refresh?.segmentDepths).toEqual([1, 5]);
    const sim = runSim(c, digits(4), 4);
    const { records } = await runSeal(c, digits(4), 4);
    records.forEach((r, n) => {
      expect(r.prediction).toBe(sim[n]!.prediction);
      for (let j = 0; j < 10; j++) expect(Math.abs(r.logits[j]! - sim[n]!.logits[j]!)).toBeLessThan(0.05);
    });
  }, 120_000);

  it('refuses refresh points outside the network, out of order, in throughput mode, or masks float64 cannot carry', () => {
    expect(() => compileNetwork(cnn, { ...base(7), refresh: { before: [2] } })).toThrow(/activation layers 0\.\.1/);
    expect(() => compileNetwork(cnn, { ...base(7), refresh: { before: [1, 0] } })).toThrow(/ascending and distinct/);
    expect(() => compileNetwork(cnn, { ...base(7), mode: 'throughput', refresh: { before: [1] } })).toThrow(/latency mode only/);
    expect(() => compileNetwork(cnn, { ...base(7), refresh: { before: [1], maskBits: 45 } })).toThrow(
      /masks of 2\^45 .* leave 7 of float64's 52 bits for precision 7 \(\+2 guard bits\); lower --mask-bits to 43/,
    );
  });
});
