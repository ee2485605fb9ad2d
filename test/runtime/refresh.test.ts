/**
 * Client-aided refresh in the runtime: a circuit deeper than its modulus chain (x ↦ x⁸ with two levels) runs with
 * two refresh rounds, under real SEAL and in sim, and agrees with float64; the key holder sees only masked values,
 * fresh per round and per inference; the builder refuses a mask its level cannot hold; the file format keeps it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CkksParameters } from '../../src/ckks/index.js';
import { type Circuit, CircuitBuilder, type CompileReport, parseCircuit, serializeCircuit } from '../../src/circuit/index.js';
import { runSim } from '../../src/runtime/inference.js';
import { runSeal } from '../../src/runtime/seal-inference.js';
import { PreparedCircuit, encodeInput } from '../../src/runtime/executor.js';
import { SealBackend } from '../../src/runtime/seal-backend.js';
import { cryptoMasks, localRefreshClient, type RefreshClient } from '../../src/runtime/refresh.js';

const PARAMS = CkksParameters.from({ polyModulusDegree: 8192, coeffModulusBits: [60, 40, 40, 60], scaleBits: 40 });
const R = 2 ** 20; // masks on [−2^20, 2^20] over values in [−1, 1]: λ = 20
const N_IN = 4;

/** x ↦ x⁸ on 4 slots: square, refresh, square, refresh, square (depth 3 on a chain of 2 levels). */
function powerOfEight(): Circuit {
  const b = new CircuitBuilder(PARAMS);
  const x = b.input(b.canonical(b.maxLevel));
  let r = x;
  for (let i = 0; i < 3; i++) {
    r = b.mulRescale(r, r);
    if (i < 2) r = b.refresh(r, R);
  }
  const slots = Array.from({ length: N_IN }, (_, i) => [i]);
  return {
    name: 'x8',
    mode: 'latency',
    params: b.params,
    inputScale: b.canonical(b.maxLevel),
    inputLayout: { length: N_IN, slots },
    inputMultiplier: 1,
    inputRange: [-1, 1],
    outputRegister: r,
    outputLayout: { length: N_IN, slots },
    outputRegisters: [r],
    outputMultiplier: 1,
    registerCount: b.registerCount(),
    registerLevel: Int32Array.from(b.level),
    registerScale: Float64Array.from(b.scales),
    plaintexts: b.plaintexts,
    ops: b.ops,
    rotationSteps: [],
    stages: [{ name: 'x8', kind: 'activation', ops: [0, b.ops.length], levelIn: b.maxLevel, levelOut: b.level[r]!, detail: {} }],
    report: { model: 'x8', notes: [] } as unknown as CompileReport,
  };
}

const inputs = Float64Array.from({ length: 3 * N_IN }, (_, i) => Math.sin(1 + i) * 0.95);
const exact = (i: number) => inputs[i]! ** 8;

describe('client-aided refresh', () => {
  const circuit = powerOfEight();
  let be: SealBackend;
  beforeAll(async () => {
    be = await SealBackend.create(circuit.params, { rotationSteps: [] });
  });
  afterAll(() => be?.dispose());

  it('runs a circuit deeper than its chain: two rounds, SEAL = sim = float64', async () => {
    expect(circuit.ops.filter((o) => o.op === 'refresh')).toHaveLength(2);
    expect(circuit.params.maxLevel).toBe(2);
    const sim = runSim(circuit, inputs, 3);
    const noisy = runSim(circuit, inputs, 3, { noise: { seed: 7 } });
    const seal = await runSeal(circuit, inputs, 3);
    for (let n = 0; n < 3; n++) {
      for (let j = 0; j < N_IN; j++) {
        const want = exact(n * N_IN + j);
        expect(Math.abs(sim[n]!.logits[j]! - want)).toBeLessThan(1e-9);
        expect(Math.abs(noisy[n]!.logits[j]! - want)).toBeLessThan(1e-4);
        expect(Math.abs(seal.records[n]!.logits[j]! - want)).toBeLessThan(1e-4);
      }
    }
  });

  it('the key holder sees only masked values, different per round and per inference; the masks are uniform on [−R, R]', () => {
    const seen: Float64Array[] = [];
    const local = localRefreshClient(be);
    const spy: RefreshClient = (masked, scale) => {
      for (const h of masked) seen.push(be.decrypt(h));
      return local(masked, scale);
    };
    const prepared = new PreparedCircuit(circuit, be);
    prepared.encodeAll();
    prepared.refreshClient = spy;
    try {
      const input = encodeInput(circuit, inputs.subarray(0, N_IN));
      for (let run = 0; run < 2; run++) {
        const ct = be.encrypt(input, circuit.inputScale);
        const { output } = prepared.evaluate(ct);
        const out = be.decrypt(output);
        for (let j = 0; j < N_IN; j++) expect(Math.abs(out[j]! - exact(j))).toBeLessThan(1e-4);
        be.free(ct);
        be.free(output);
      }
    } finally {
      prepared.dispose();
    }
    expect(seen).toHaveLength(4); // two rounds × two inferences
    // what the key holder decrypts is x² + r (|x²| ≤ 1): far from the true values, spread over [−R, R], never repeated
    const x2 = inputs[0]! ** 2;
    for (const v of seen) {
      expect(Math.abs(v[0]! - x2)).toBeGreaterThan(1); // would fail with probability 2^-20 per value
      const max = v.reduce((m, y) => Math.max(m, Math.abs(y)), 0);
      expect(max).toBeLessThanOrEqual(R + 1);
      expect(max).toBeGreaterThan(0.99 * R); // 4096 uniform slots: the largest is within 1 % of R
    }
    for (let a = 0; a < seen.length; a++) for (let b = a + 1; b < seen.length; b++) expect(seen[a]![0]).not.toBe(seen[b]![0]);
  });

  it('a prepared circuit with refresh rounds and no key holder fails with a message', () => {
    const prepared = new PreparedCircuit(circuit, be);
    const ct = be.encrypt(encodeInput(circuit, inputs.subarray(0, N_IN)), circuit.inputScale);
    try {
      expect(() => prepared.evaluate(ct)).toThrow(/refresh round and no key holder is attached/);
    } finally {
      be.free(ct);
      prepared.dispose();
    }
  });

  it('crypto masks are uniform on [−R, R] (mean and spread of 20 000)', () => {
    const m = cryptoMasks(20000, 8);
    const mean = m.reduce((a, v) => a + v, 0) / m.length;
    const variance = m.reduce((a, v) => a + v * v, 0) / m.length;
    expect(Math.max(...m)).toBeLessThanOrEqual(8);
    expect(Math.min(...m)).toBeGreaterThanOrEqual(-8);
    expect(Math.abs(mean)).toBeLessThan(0.15); // sd of the mean: 8/√3/√20000 ≈ 0.033
    expect(variance).toBeGreaterThan(64 / 3 - 1); // uniform on [−8, 8]: 64/3
    expect(variance).toBeLessThan(64 / 3 + 1);
  });

  it('the builder refuses a mask the level cannot hold, and the file format keeps refresh ops', () => {
    const b = new CircuitBuilder(PARAMS);
    const x = b.input(b.canonical(b.maxLevel));
    const low = b.rescale(b.mul(x, x));
    expect(() => b.refresh(low, 2 ** 70)).toThrow(
      /refresh: masked values up to 2\^71\.0 at scale 2\^\d+\.\d need \d+\.\d bits; level 1 has 100/,
    );
    expect(() => b.refresh(low, -1)).toThrow(/mask bound -1 is not a positive number/);
    const text = serializeCircuit(circuit);
    expect(text).toContain('["refresh",');
    const back = parseCircuit(text, 'x8.json');
    expect(back.ops).toEqual(circuit.ops);
    expect(() => parseCircuit(text.replace(/\["refresh",(\d+),(\d+),[\d.e+]+\]/, '["refresh",$1,$2,0]'), 'bad.json')).toThrow(
      /ops\[\d+\]\[3\]: expected a positive number, got 0/,
    );
  });
});
