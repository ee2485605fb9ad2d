import { describe, expect, it } from 'vitest';
import { parseActivation } from '../../src/approx/activations.js';
import { evalApproximation } from '../../src/approx/polynomial.js';
import { fitMinimax } from '../../src/approx/remez.js';
import { applyAffine } from '../../src/compiler/affine.js';
import { signedPowerSteps } from '../../src/circuit/index.js';
import { compileNetwork, type ApproximationProvider } from '../../src/compiler/compile.js';
import { foldModel } from '../../src/compiler/fold.js';
import { predict } from '../../src/nn/inference.js';
import { decodeBatch, decodeOutput, encodeBatch, encodeInput, PreparedCircuit } from '../../src/runtime/executor.js';
import { runSim, simBackendFor } from '../../src/runtime/inference.js';
import { parseCircuit, serializeCircuit } from '../../src/circuit/index.js';
import { SimBackend } from '../../src/runtime/sim-backend.js';
import { evalCircuitActivation, normaliseApproximation } from '../../src/compiler/poly-eval.js';
import { inputs, polyNetwork, provider, tinyModel } from './fixtures.js';

describe('compileNetwork', () => {
  const model = tinyModel('relu', 'gelu');
  const cal = inputs(50, 11);
  const circuit = compileNetwork(model, {
    precisionBits: 6,
    calibration: { inputs: cal, count: 50, label: 'test' },
    provider,
    ringDimensions: [8192, 16384],
    refresh: { maxRounds: 0 }, // one chain: what these tests are about
  });

  it('folds conv+batchnorm, flatten and dropout into affine blocks that reproduce the float model', () => {
    const blocks = foldModel(model);
    expect(blocks.map((b) => b.kind)).toEqual(['affine', 'activation', 'affine', 'activation', 'affine']);
    const first = blocks[0]!;
    expect(first.kind === 'affine' && first.conv).toBeTruthy();
    const x = inputs(1, 99);
    let v: Float64Array = x;
    for (const b of blocks) {
      v = b.kind === 'affine' ? applyAffine(b.map, v) : v.map((t) => b.activation!.f(t));
    }
    const ref = predict(model, x, 1);
    for (let i = 0; i < 3; i++) expect(v[i]).toBeCloseTo(ref[i]!, 12);
  });

  it('plans depth, parameters and rotation keys, and reports them', () => {
    const r = circuit.report;
    expect(r.depth).toBe(r.depthPerStage.reduce((a, s) => a + s.depth, 0));
    expect(r.totalModulusBits).toBeLessThanOrEqual(r.maxModulusBits);
    expect(circuit.params.coeffModulusBits.length).toBe(r.depth + 2);
    expect(r.activations).toHaveLength(2);
    expect(r.activations[0]!.B).toBeGreaterThan(0);
    // exactly the rotation steps the ops use
    const used = new Set(circuit.ops.flatMap((o) => (o.op === 'rotate' ? [o.steps] : [])));
    expect(new Set(circuit.rotationSteps)).toEqual(used);
    expect(r.opCounts.rotations).toBeGreaterThan(0);
    expect(r.predicted.latencyMs).toBeGreaterThan(0);
  });

  it('the circuit computes the polynomial network exactly (sim backend without noise)', () => {
    const be = new SimBackend({ params: circuit.params });
    const prepared = new PreparedCircuit(circuit, be);
    // reference: the folded network with each activation replaced by its fitted polynomial on [-B, B]
    const blocks = foldModel(model);
    const Bs = circuit.report.activations.map((a) => a.B);
    const approx = Bs.map((B, n) => {
      const act = blocks[2 * n + 1]!;
      if (act.kind !== 'activation' || !act.activation) throw new Error('expected an activation block');
      return provider({ activation: act.activation, B, precisionBits: 6, method: 'auto' });
    });
    const x = inputs(5, 1234);
    for (let s = 0; s < 5; s++) {
      const xi = x.subarray(s * 64, (s + 1) * 64);
      const v = polyNetwork(blocks, xi, (n, t) => evalApproximation(approx[n]!.approximation, t));
      const ct = be.encrypt(encodeInput(circuit, xi), circuit.inputScale);
      const { output, timings } = prepared.evaluate(ct);
      const got = decodeOutput(circuit, be.decrypt(output));
      for (let i = 0; i < 3; i++) expect(got[i]).toBeCloseTo(v[i]!, 8);
      expect(timings.map((t) => t.name)).toEqual(circuit.stages.map((st) => st.name));
    }
  });

  it('composite relu finish and homogeneous rescaling compile and stay exact', () => {
    const m = tinyModel('relu', 'relu', 8);
    const compositeProvider: ApproximationProvider = ({ activation, B }) => {
      // sign ≈ a degree-7 odd minimax on [-1,-0.05]∪[0.05,1], relu(x) = x(1+s)/2, stage on [-1,1] (B-invariant)
      const fit = fitMinimax((t) => Math.sign(t), {
        intervals: [
          [-1, -0.05],
          [0.05, 1],
        ],
        degree: 7,
        parity: { symmetry: 'odd', poly: [] },
      });
      return {
        approximation: {
          activation: activation.toString(),
          method: 'composite',
          interval: [-1, 1],
          stages: [fit.polynomial],
          finish: 'relu',
        },
        maxError: NaN,
        source: `composite for B=${B}`,
      };
    };
    const c = compileNetwork(m, {
      precisionBits: 5,
      calibration: { inputs: cal, count: 50, label: 'test' },
      provider: compositeProvider,
      ringDimensions: [8192, 16384],
      refresh: { maxRounds: 0 }, // one chain: what these tests are about
    });
    const be = new SimBackend({ params: c.params });
    const prepared = new PreparedCircuit(c, be);
    const blocks = foldModel(m);
    const sign = compositeProvider({ activation: parseActivation('relu'), B: 1, precisionBits: 5, method: 'auto' }).approximation;
    const x = inputs(3, 77);
    for (let s = 0; s < 3; s++) {
      const xi = x.subarray(s * 64, (s + 1) * 64);
      const v = polyNetwork(blocks, xi, (n, t) => {
        const B = c.report.activations[n]!.B;
        return evalApproximation({ ...sign, stages: [{ ...sign.stages[0]!, interval: [-B, B] }], interval: [-B, B] }, t);
      });
      const { output } = prepared.evaluate(be.encrypt(encodeInput(c, xi), c.inputScale));
      const got = decodeOutput(c, be.decrypt(output));
      for (let i = 0; i < 3; i++) expect(got[i]).toBeCloseTo(v[i]!, 8);
    }
  });

  it('rejects a network too deep for any 128-bit parameter set, naming the depth', () => {
    expect(() =>
      compileNetwork(model, {
        precisionBits: 6,
        calibration: { inputs: cal, count: 50, label: 'test' },
        provider,
        scaleBits: 50,
        ringDimensions: [8192],
      }),
    ).toThrow(/no 128-bit CKKS parameters hold depth \d+ at 50-bit scale.*Lower the precision/);
  });
});

describe('throughput mode', () => {
  const model = tinyModel('relu', 'silu', 12);
  const cal = inputs(30, 13);
  const opts = {
    precisionBits: 5,
    calibration: { inputs: cal, count: 30, label: 'test' },
    provider,
    ringDimensions: [8192, 16384],
    refresh: { maxRounds: 0 }, // one chain: what these tests are about
  } as const;
  const latency = compileNetwork(model, opts);
  const batch = compileNetwork(model, { ...opts, mode: 'throughput' });

  it('packs one ciphertext per input value: no rotations, no Galois keys, N/2 inputs per evaluation', () => {
    expect(batch.mode).toBe('throughput');
    expect(batch.rotationSteps).toEqual([]);
    expect(batch.report.opCounts.rotations).toBe(0);
    expect(batch.inputLayout.length).toBe(64);
    expect(batch.outputRegisters).toHaveLength(3);
    expect(batch.report.batchSize).toBe(batch.params.polyModulusDegree / 2);
    expect(batch.report.depth).toBe(latency.report.depth);
  });

  it('computes exactly what the latency circuit computes, for a whole batch (sim backend)', () => {
    const n = 40;
    const x = inputs(n, 5150);
    const be = simBackendFor(batch);
    const prepared = new PreparedCircuit(batch, be);
    const cts = encodeBatch(batch, x, n).map((v) => be.encrypt(v, batch.inputScale));
    const { outputs } = prepared.evaluateBatch(cts);
    const logits = decodeBatch(
      batch,
      outputs.map((o) => be.decrypt(o)),
      n,
    );
    const ref = runSim(latency, x, n);
    logits.forEach((l, i) => l.forEach((v, j) => expect(v).toBeCloseTo(ref[i]!.logits[j]!, 9)));
    expect(() => prepared.evaluate(cts[0]!)).toThrow(/throughput circuit takes one ciphertext per input value/);
    expect(() => prepared.evaluateBatch(cts.slice(1))).toThrow(/takes 64 input ciphertext\(s\), got 63/);
  });

  it('round-trips through the circuit file, verified', () => {
    const back = parseCircuit(serializeCircuit(batch));
    expect(back.mode).toBe('throughput');
    expect(back.outputRegisters).toEqual(batch.outputRegisters);
    expect(back.ops.length).toBe(batch.ops.length);
  });
});

describe('rotation key sets', () => {
  it('decomposes a step into signed powers of two (non-adjacent form) that sum to it modulo the slots', () => {
    for (const s of [1, 3, 7, 28, 84, 819, 2047, 2048, 4095]) {
      const parts = signedPowerSteps(s, 4096);
      expect(parts.every((d) => Number.isInteger(Math.log2(Math.abs(d))))).toBe(true);
      expect((((parts.reduce((a, b) => a + b, 0) - s) % 4096) + 4096) % 4096).toBe(0);
      for (let i = 1; i < parts.length; i++) expect(Math.abs(parts[i]!)).toBeGreaterThan(2 * Math.abs(parts[i - 1]!) - 1);
    }
    expect(signedPowerSteps(7, 4096)).toEqual([-1, 8]);
  });

  it('powers-of-two keys give the same circuit results with only ±2^i Galois keys', () => {
    const model = tinyModel('relu', 'gelu', 21);
    const opts = {
      precisionBits: 4,
      calibration: { inputs: inputs(20, 4), count: 20, label: 'test' },
      provider,
      ringDimensions: [8192, 16384],
      refresh: { maxRounds: 0 }, // one chain: what these tests are about
    } as const;
    const exact = compileNetwork(model, opts);
    const pow2 = compileNetwork(model, { ...opts, rotationKeys: 'powers-of-two' });
    const slots = pow2.params.polyModulusDegree / 2;
    for (const s of pow2.rotationSteps) {
      const v = Math.min(s, slots - s);
      expect(Number.isInteger(Math.log2(v))).toBe(true);
    }
    expect(pow2.report.opCounts.rotations).toBeGreaterThanOrEqual(exact.report.opCounts.rotations);
    const x = inputs(4, 8);
    const a = runSim(exact, x, 4);
    const b = runSim(pow2, x, 4);
    a.forEach((r, i) => r.logits.forEach((v, j) => expect(b[i]!.logits[j]).toBeCloseTo(v, 9)));
  });
});

describe('degree-2 activations at one level', () => {
  /** Minimax fits of degree 2, whatever the precision (a CryptoNets-style square-like stand-in). */
  const quadratic: ApproximationProvider = ({ activation, B }) => {
    const fit = fitMinimax((x) => activation.f(x), { intervals: [[-B, B]], degree: 2 });
    return {
      approximation: { activation: activation.toString(), method: 'remez', interval: [-B, B], stages: [fit.polynomial], finish: 'none' },
      maxError: fit.maxWeightedError,
      source: 'test fit',
    };
  };

  it('rewrites c0 + c1·t + c2·T2(t) (scaled by 1/B) as ±(u² + β·u + γ) with u = √|2c2/B|·t, for either sign of c2', () => {
    for (const c of [
      [0.3, 0.5, 0.25],
      [0.1, -0.7, -0.4],
    ]) {
      const approx = {
        activation: 'test',
        method: 'remez' as const,
        interval: [-3, 3] as [number, number],
        stages: [{ interval: [-3, 3] as [number, number], coefficients: c }],
        finish: 'none' as const,
      };
      const act = normaliseApproximation(approx, 3, null);
      expect(act.depth).toBe(1);
      expect(act.quadratic).not.toBeNull();
      expect(act.inputMultiplier).toBeCloseTo(Math.sqrt(Math.abs(2 * c[2]!) / 3), 14); // the output is scaled by 1/B first
      for (let x = -3; x <= 3; x += 0.25) {
        const want = evalApproximation(approx, x);
        expect(act.outputMultiplier * evalCircuitActivation(act, x / 3)).toBeCloseTo(want, 12);
      }
    }
  });

  it('compiles each degree-2 activation to one level and computes the polynomial network exactly (sim, latency and throughput)', () => {
    const model = tinyModel('relu', 'gelu');
    const cal = inputs(50, 11);
    const options = {
      precisionBits: 4,
      calibration: { inputs: cal, count: 50, label: 'test' },
      provider: quadratic,
      ringDimensions: [8192],
      refresh: { maxRounds: 0 }, // exact to 1e-8: no masks (x + r rounds at 2^-52·|r|)
    };
    const latency = compileNetwork(model, options);
    const batch = compileNetwork(model, { ...options, mode: 'throughput' });
    // 3 linear levels + 1 per activation (the generic plan would take 2 each)
    expect(latency.report.depth).toBe(5);
    expect(batch.report.depth).toBe(5);
    expect(
      latency.report.depthPerStage.filter((s) => !s.name.startsWith('conv') && !s.name.startsWith('dense')).map((s) => s.depth),
    ).toEqual([1, 1]);
    const blocks = foldModel(model);
    const approx = latency.report.activations.map((a, n) => {
      const act = blocks[2 * n + 1]!;
      if (act.kind !== 'activation' || !act.activation) throw new Error('expected an activation block');
      return quadratic({ activation: act.activation, B: a.B, precisionBits: 4, method: 'auto' }).approximation;
    });
    const n = 6;
    const x = inputs(n, 77);
    const lat = runSim(latency, x, n);
    const thr = runSim(batch, x, n);
    for (let s = 0; s < n; s++) {
      const want = polyNetwork(blocks, x.subarray(s * 64, (s + 1) * 64), (k, t) => evalApproximation(approx[k]!, t));
      for (let i = 0; i < 3; i++) {
        expect(lat[s]!.logits[i]).toBeCloseTo(want[i]!, 8);
        expect(thr[s]!.logits[i]).toBeCloseTo(want[i]!, 8);
      }
    }
  });
});
