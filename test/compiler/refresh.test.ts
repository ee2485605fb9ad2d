/**
 * Refresh points in the compiler: a round before an activation layer splits the network into segments, the chain
 * holds the longest segment (plus the level the masked values need), the circuit computes what the single-chain
 * circuit computes (sim, exact), and SEAL agrees with sim; bad requests and the float64 bound are refused.
 */
import { describe, expect, it } from 'vitest';
import { compileNetwork, type CompileOptions, parseLink } from '../../src/compiler/compile.js';
import { fewestRoundsPerDepth } from '../../src/compiler/refresh-points.js';
import { inputs, provider as tinyProvider, tinyModel } from './fixtures.js';
import { fitterProvider } from '../../src/compiler/polynomialise.js';
import { headDataset } from '../../src/nn/dataset.js';
import { loadMnistSplit } from '../../src/nn/mnist.js';
import { loadModel } from '../../src/nn/model-file.js';
import { runSim } from '../../src/runtime/inference.js';
import { estimateNoise } from '../../src/runtime/noise.js';
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
/** A report's point label ("1", "0:1") as a refresh option. */
const parseAt = (label: string) => {
  const [layer, stage] = label.split(':').map(Number) as [number, number?];
  return stage === undefined ? layer : { layer, stage };
};

describe('refresh points', () => {
  const cnn = loadModel('models/mnist-cnn-relu.json');

  it('the two-layer ReLU CNN at k = 7: one round halves the chain, and the circuit computes the same logits', () => {
    const single = compileNetwork(cnn, { ...base(7), refresh: { maxRounds: 0 } });
    const refreshed = compileNetwork(cnn, { ...base(7), refresh: { before: [1] } });
    expect(single.report.refresh).toBeUndefined();
    expect(refreshed.report.refresh).toMatchObject({
      rounds: 1,
      beforeLayers: [1],
      maskBits: 32,
      segmentDepths: [7, 6],
      placement: 'explicit',
    });
    expect(single.params.maxLevel).toBe(13);
    expect(refreshed.params.maxLevel).toBe(8); // the first segment's 7 levels, and one for the masked values
    expect(refreshed.ops.filter((o) => o.op === 'refresh')).toHaveLength(1);
    // the second segment (depth 6) starts at level 6, not at the top: its ops run on 7 primes, not 9
    const round = refreshed.ops.findIndex((o) => o.op === 'refresh');
    const after = refreshed.ops[round + 1]!;
    expect(after).toMatchObject({ op: 'drop', level: 6 });
    expect(refreshed.registerLevel[refreshed.outputRegister]).toBe(0);
    expect(refreshed.report.predicted.latencyMs).toBeLessThan(0.7 * single.report.predicted.latencyMs);
    expect(refreshed.report.predicted.evaluationKeyUploadBytes).toBeLessThan(single.report.predicted.evaluationKeyUploadBytes);
    const a = runSim(single, digits(20), 20);
    const b = runSim(refreshed, digits(20), 20);
    for (let n = 0; n < 20; n++) {
      expect(b[n]!.prediction).toBe(a[n]!.prediction);
      for (let j = 0; j < 10; j++) expect(Math.abs(b[n]!.logits[j]! - a[n]!.logits[j]!)).toBeLessThan(1e-3);
    }
  });

  it('by default places rounds where the predicted latency is lowest, and --max-rounds caps them', () => {
    const auto = compileNetwork(cnn, base(7));
    const search = auto.report.refreshSearch!;
    expect(search.link).toBe('100 Mbit/s');
    const compiled = search.considered.filter((k) => k.latencyMs !== undefined);
    expect(compiled.length).toBeGreaterThanOrEqual(2);
    expect(search.considered[0]!.points).toEqual([]); // the single chain is always a candidate
    const best = Math.min(...compiled.map((k) => k.latencyMs!));
    expect(auto.report.predicted.latencyMs).toBe(best);
    expect(auto.report.refresh?.placement).toBe('auto');
    expect(auto.report.refresh!.points).toEqual(search.considered.find((k) => k.latencyMs === best)!.points);
    // the split adds up, and each round moves its masked ciphertexts down and fresh (seeded) ones up
    const { split } = auto.report.predicted;
    expect(split!.serverMs + split!.clientMs + split!.linkMs).toBeCloseTo(auto.report.predicted.latencyMs, 9);
    const [round] = auto.report.refresh!.perRound!;
    expect(round!.freshBytes).toBe(auto.report.predicted.seededCiphertextBytes * round!.ciphertexts);
    const fresh = auto.report.refresh!.perRound!.reduce((a, r) => a + r.freshBytes, 0);
    expect(split!.bytesUp).toBe(auto.report.predicted.seededCiphertextBytes + fresh);
    // capped: one chain, as before refresh existed
    const capped = compileNetwork(cnn, { ...base(7), refresh: { maxRounds: 0 } });
    expect(capped.report.refresh).toBeUndefined();
    expect(capped.ops.some((o) => o.op === 'refresh')).toBe(false);
    // free relayout: the linear layer after a round takes its input in the layout it is cheapest on (the key
    // holder moves the masked values there), so the same placement without it has more rotations and Galois keys
    expect(auto.relayouts?.length).toBeGreaterThan(0);
    expect(auto.report.refresh!.perRound!.some((r) => r.relayoutFor !== undefined)).toBe(true);
    const fixed = compileNetwork(cnn, { ...base(7), refresh: { before: auto.report.refresh!.points!.map(parseAt), relayout: false } });
    expect(fixed.relayouts).toBeUndefined();
    expect(fixed.params.polyModulusDegree).toBe(auto.params.polyModulusDegree);
    expect(auto.rotationSteps.length).toBeLessThan(fixed.rotationSteps.length);
    expect(auto.report.predicted.evaluationKeyUploadBytes).toBeLessThan(fixed.report.predicted.evaluationKeyUploadBytes);
    expect(auto.report.predicted.split!.serverMs).toBeLessThan(fixed.report.predicted.split!.serverMs);
    const relaidSim = runSim(auto, digits(20), 20);
    const fixedSim = runSim(fixed, digits(20), 20);
    for (let n = 0; n < 20; n++)
      for (let j = 0; j < 10; j++) expect(Math.abs(relaidSim[n]!.logits[j]! - fixedSim[n]!.logits[j]!)).toBeLessThan(1e-6);
    // a slow link makes rounds dearer: at 1 Mbit/s each round costs seconds, so the search keeps fewer of them
    const slow = compileNetwork(cnn, { ...base(7), refresh: { link: parseLink('1mbit') } });
    expect(slow.report.refreshSearch!.link).toBe('1 Mbit/s');
    expect(slow.report.predicted.split!.linkMs).toBeGreaterThan(split!.linkMs);
  });

  it('a network no single chain holds gets the rounds it needs; with --max-rounds 0 it fails naming why', () => {
    const deep = compileNetwork(cnn, { ...base(12), ringDimensions: [4096, 8192, 16384] });
    expect(deep.params.polyModulusDegree).toBe(16384);
    expect(deep.report.refresh!.rounds).toBeGreaterThanOrEqual(1);
    expect(deep.report.refreshSearch!.considered[0]!.rejected).toMatch(/no 128-bit CKKS parameters hold depth 23/);
    expect(() => compileNetwork(cnn, { ...base(12), ringDimensions: [4096, 8192, 16384], refresh: { maxRounds: 0 } })).toThrow(
      /hold depth 23 .*--max-rounds 0 forbids client-aided refresh rounds/,
    );
  });

  it('fewest rounds per chain depth: a DP over the pieces between refresh points', () => {
    // blocks: affine 1, act 5, affine 1, act 5, affine 1; points before the activations (blocks 1 and 3)
    expect(fewestRoundsPerDepth([1, 5, 1, 5, 1], [1, 3])).toEqual([[1, 3], [3], [3], [3], [3], [3], []]);
    // a segment that ends in a round needs one level more: [1+5+1] then a round needs depth 8
    expect(fewestRoundsPerDepth([1, 5, 1, 5, 1], [3])).toEqual([[3], [3], [3], [3], [3], []]);
  });

  it('parses links', () => {
    expect(parseLink('local')).toEqual({ bitsPerSecond: Infinity, rttMs: 0 });
    expect(parseLink('100mbit')).toEqual({ bitsPerSecond: 1e8, rttMs: 0 });
    expect(parseLink('1.5Gbit,20ms')).toEqual({ bitsPerSecond: 1.5e9, rttMs: 20 });
    for (const bad of ['fast', '100', '100mb', '0mbit', '-1mbit', '100mbit,', '100mbit,1e9ms'])
      expect(() => parseLink(bad)).toThrow(/link ".*": give local/);
  });

  it('rounds inside a composite activation (partial value and t together) and right after it: SEAL = sim = one chain', async () => {
    const opts = { ...base(8), method: 'composite' as const };
    const single = compileNetwork(cnn, { ...opts, refresh: { maxRounds: 0 } });
    const c = compileNetwork(cnn, {
      ...opts,
      refresh: {
        before: [
          { layer: 0, stage: 1 },
          { layer: 0, stage: 2 },
        ],
      },
    });
    expect(c.report.refresh).toMatchObject({ rounds: 2, points: ['0:1', '0:2'], beforeLayers: [] });
    // inside the relu: the stage-1 value and t (the finish needs it); after it: the activation's output
    expect(c.report.refresh!.perRound!.map((r) => r.ciphertexts)).toEqual([2, 1]);
    expect(c.params.maxLevel).toBeLessThan(single.params.maxLevel);
    const a = runSim(single, digits(10), 10);
    const b = runSim(c, digits(10), 10);
    for (let n = 0; n < 10; n++) for (let j = 0; j < 10; j++) expect(Math.abs(b[n]!.logits[j]! - a[n]!.logits[j]!)).toBeLessThan(1e-3);
    const { records } = await runSeal(c, digits(2), 2);
    records.forEach((r, n) => {
      expect(r.prediction).toBe(b[n]!.prediction);
      for (let j = 0; j < 10; j++) expect(Math.abs(r.logits[j]! - b[n]!.logits[j]!)).toBeLessThan(0.01);
    });
    expect(() => compileNetwork(cnn, { ...opts, refresh: { before: [{ layer: 0, stage: 3 }] } })).toThrow(
      /refresh at 0:3: activation layer 0 takes rounds at stages 0\.\.2 \(0: before it; 2: after it; 1\.\.1: after its composite stages\)/,
    );
  }, 180_000);

  it('compares composite stand-ins too, and passes over a placement whose scale is too small for its polynomials (the noise screen)', async () => {
    const c = compileNetwork(cnn, { ...base(12), noiseCheck: { inputs: 32, estimate: (circuit, x, n) => estimateNoise(circuit, x, n) } });
    // at k = 12 a single ReLU stand-in has depth 10 and no round can split it; the composite's stages can, and
    // composites of shallower stages (degree ≤ 7) fit the short chains of N = 8192
    expect(new Set(c.report.refreshSearch!.considered.map((k) => k.method))).toEqual(
      new Set(['auto', 'composite', 'composite (stages of depth ≤ 3)']),
    );
    expect(c.report.activations.every((a) => a.method === 'composite' && a.degree.every((d) => d <= 7))).toBe(true);
    expect(c.params.polyModulusDegree).toBe(8192);
    const deep = c.report.refreshSearch!.considered.filter((k) => k.method === 'composite' && k.latencyMs !== undefined && !k.rejected);
    expect(c.report.predicted.latencyMs).toBeLessThan(Math.min(...deep.map((k) => k.latencyMs!)));
    expect(c.report.refresh!.points!.some((p) => p.includes(':'))).toBe(true);
    const noisy = c.report.refreshSearch!.considered.filter((k) => k.latencyMs !== undefined && k.rejected !== undefined);
    expect(noisy.length).toBeGreaterThan(0);
    expect(noisy[0]!.rejected).toMatch(/CKKS noise at scale 2\^\d+: about .*% of predictions would change/);
    expect(c.report.predicted.latencyMs).toBeGreaterThan(noisy[0]!.latencyMs!); // faster, but wrong: passed over
    expect(c.report.noise!.expectedFlipRate).toBeLessThan(0.01);
    // under SEAL, with its rounds inside the composites, it computes what sim computes
    const sim = runSim(c, digits(2), 2);
    const seal = await runSeal(c, digits(2), 2);
    for (let n = 0; n < 2; n++) {
      expect(seal.records[n]!.prediction).toBe(sim[n]!.prediction);
      for (let j = 0; j < 10; j++) expect(Math.abs(seal.records[n]!.logits[j]! - sim[n]!.logits[j]!)).toBeLessThan(0.05);
    }
  }, 120_000);

  it('compositeStageDepth (--composite-stage-depth) caps the stages of an asked-for composite', () => {
    const mlp = loadModel('models/mnist-mlp-relu.json');
    const opts = { ...base(12), method: 'composite' as const, refresh: { maxRounds: 0 } };
    const deep = compileNetwork(mlp, opts);
    const shallow = compileNetwork(mlp, { ...opts, compositeStageDepth: 3 });
    expect(Math.max(...deep.report.activations[0]!.degree)).toBeGreaterThan(7);
    expect(Math.max(...shallow.report.activations[0]!.degree)).toBeLessThanOrEqual(7);
    expect(shallow.report.activations[0]!.maxError).toBeLessThanOrEqual(shallow.report.activations[0]!.B * 2 ** -12);
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
    // a one-level quadratic cannot land on the canonical scale from a fresh ciphertext dropped below the top
    const tiny = {
      precisionBits: 1,
      calibration: { inputs: inputs(40, 9), count: 40, label: 'test' },
      provider: tinyProvider,
      ringDimensions: [8192],
    };
    expect(() => compileNetwork(tinyModel('relu', 'relu'), { ...tiny, refresh: { before: [1] } })).toThrow(
      /a degree-2 stand-in right after a refresh round that lands below the top level \(level \d+ of \d+\)/,
    );
  });
});
