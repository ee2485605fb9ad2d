/**
 * Client-aided refresh in the runtime: a circuit deeper than its modulus chain (x ↦ x⁸ with two levels) runs with
 * two refresh rounds, under real SEAL and in sim, and agrees with float64; the key holder sees only masked values,
 * fresh per round and per inference; an evaluation stops at a round and resumes from the fresh ciphertexts alone
 * (another PreparedCircuit, the masks re-derived); the masks' PRF; the round invariant; the builder refuses a mask
 * its level cannot hold; the file format keeps it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CkksParameters } from '../../src/ckks/index.js';
import {
  type Circuit,
  CircuitBuilder,
  type CompileReport,
  parseCircuit,
  refreshRounds,
  serializeCircuit,
  verifyCircuit,
} from '../../src/circuit/index.js';
import { runSim } from '../../src/runtime/inference.js';
import { runSeal } from '../../src/runtime/seal-inference.js';
import { PreparedCircuit, encodeInput } from '../../src/runtime/executor.js';
import { SealBackend } from '../../src/runtime/seal-backend.js';
import { freshMasks, localRefreshClient, prfMasks, type RefreshClient } from '../../src/runtime/refresh.js';

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
  return circuitOf(b, r);
}

/** A latency circuit on 4 slots from a builder and its output register. */
function circuitOf(b: CircuitBuilder, r: number): Circuit {
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
    const spy: RefreshClient = (masked, round) => {
      for (const h of masked) seen.push(be.decrypt(h));
      return local(masked, round);
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

  it('masks come from a keyed PRF: the same for the same (secret, inference, round, ciphertext), unrelated otherwise, uniform', () => {
    const secret = new Uint8Array(32).fill(7);
    const id = Uint8Array.of(1, 2, 3);
    const m = prfMasks(secret, id)(0, 0, 20000, 8);
    expect(prfMasks(Uint8Array.from(secret), Uint8Array.from(id))(0, 0, 20000, 8)).toEqual(m);
    const others = [
      prfMasks(secret, id)(1, 0, 20000, 8),
      prfMasks(secret, id)(0, 1, 20000, 8),
      prfMasks(secret, Uint8Array.of(1, 2, 4))(0, 0, 20000, 8),
      prfMasks(new Uint8Array(32).fill(8), id)(0, 0, 20000, 8),
      freshMasks()(0, 0, 20000, 8),
    ];
    for (const o of others) {
      expect(o.filter((v, i) => v === m[i]).length).toBe(0);
      const corr = o.reduce((a, v, i) => a + v * m[i]!, 0) / (m.length * (64 / 3));
      expect(Math.abs(corr)).toBeLessThan(0.03); // sd ≈ 1/√20000 ≈ 0.007
    }
    const mean = m.reduce((a, v) => a + v, 0) / m.length;
    const variance = m.reduce((a, v) => a + v * v, 0) / m.length;
    expect(Math.max(...m)).toBeLessThanOrEqual(8);
    expect(Math.min(...m)).toBeGreaterThanOrEqual(-8);
    expect(Math.max(...m)).toBeGreaterThan(7.99);
    expect(Math.abs(mean)).toBeLessThan(0.15); // sd of the mean: 8/√3/√20000 ≈ 0.033
    expect(variance).toBeGreaterThan(64 / 3 - 1); // uniform on [−8, 8]: 64/3
    expect(variance).toBeLessThan(64 / 3 + 1);
    expect(() => prfMasks(new Uint8Array(16), id)).toThrow(/mask secret: 16 bytes, expected 32/);
  });

  it('an evaluation stops at each round and resumes from the fresh ciphertexts alone, in another PreparedCircuit', () => {
    const secret = new Uint8Array(32).fill(3);
    const id = Uint8Array.of(9);
    const local = localRefreshClient(be);
    const input = be.encrypt(encodeInput(circuit, inputs.subarray(0, N_IN)), circuit.inputScale);
    const first = new PreparedCircuit(circuit, be);
    let step = first.start([input], prfMasks(secret, id));
    be.free(input);
    first.dispose();
    const rounds: number[] = [];
    while (step.kind === 'round') {
      rounds.push(step.round.index);
      expect(step.masked.map((h) => h.level)).toEqual(step.round.masked.map((m) => m.level));
      const fresh = local(step.masked, step.round);
      for (const h of step.masked) be.free(h);
      // a new PreparedCircuit and a new PRF closure: nothing of the evaluation survives but the fresh ciphertexts
      const next = new PreparedCircuit(circuit, be);
      step = next.resume(step.round.index, fresh, prfMasks(Uint8Array.from(secret), Uint8Array.from(id)));
      for (const h of fresh) be.free(h);
      next.dispose();
    }
    expect(rounds).toEqual([0, 1]);
    const out = be.decrypt(step.outputs[0]!);
    be.free(step.outputs[0]!);
    for (let j = 0; j < N_IN; j++) expect(Math.abs(out[j]! - exact(j))).toBeLessThan(1e-4);
  });

  it('resume refuses the wrong count, level or scale of fresh ciphertexts, an unknown round, and other masks give garbage', () => {
    const prepared = new PreparedCircuit(circuit, be);
    const masks = prfMasks(new Uint8Array(32), Uint8Array.of(1));
    const input = be.encrypt(encodeInput(circuit, inputs.subarray(0, N_IN)), circuit.inputScale);
    const step = prepared.start([input], masks);
    be.free(input);
    if (step.kind !== 'round') throw new Error('expected a round');
    const [fresh] = localRefreshClient(be)(step.masked, step.round);
    const atScale = be.encrypt(new Float64Array(4), step.round.fresh.scale * 2);
    const low = be.rescale(be.mul(fresh!, fresh!));
    try {
      expect(() => prepared.resume(0, [fresh!, fresh!], masks)).toThrow(/refresh round 0: sent 1 ciphertexts, got 2 back/);
      expect(() => prepared.resume(0, [low], masks)).toThrow(/ciphertext 0 came back at level 1, scale .* \(expected level 2, scale/);
      expect(() => prepared.resume(0, [atScale], masks)).toThrow(/ciphertext 0 came back at level 2, scale/);
      expect(() => prepared.resume(2, [fresh!], masks)).toThrow(/resume after refresh round 2: the circuit has 2 round\(s\)/);
      const wrong = prepared.resume(0, [fresh!], prfMasks(new Uint8Array(32), Uint8Array.of(2)));
      if (wrong.kind !== 'round') throw new Error('expected the second round');
      const seen = be.decrypt(wrong.masked[0]!);
      for (const h of wrong.masked) be.free(h);
      // unmasked with another r: (x² + r − r')² + r'' is no longer within R of the true value plus a mask
      expect(seen.slice(0, N_IN).some((v) => Math.abs(v) > R + 1)).toBe(true);
    } finally {
      for (const h of [...step.masked, fresh!, atScale, low]) be.free(h);
      prepared.dispose();
    }
  });

  it('the round invariant: a register live across a round must be one of its sources, and is read fresh after it', () => {
    const liveAcross = new CircuitBuilder(PARAMS);
    const x = liveAcross.input(liveAcross.canonical(liveAcross.maxLevel));
    const y = liveAcross.refresh(liveAcross.rescale(liveAcross.mul(x, x)), R);
    const bad = circuitOf(liveAcross, liveAcross.add(y, x)); // x: written before the round, read after it
    expect(() => verifyCircuit(bad)).toThrow(
      /ops\[3\] \(add\) reads register 0, written before refresh round 0 \(ops 2…2\) and not carried through it: .*make it a source of the round/,
    );
    const sourceAgain = new CircuitBuilder(PARAMS);
    const s0 = sourceAgain.input(sourceAgain.canonical(sourceAgain.maxLevel));
    const sq = sourceAgain.rescale(sourceAgain.mul(s0, s0));
    sourceAgain.refresh(sq, R);
    const again = circuitOf(sourceAgain, sourceAgain.addConstant(sq, 0.5)); // the source itself, not its fresh copy
    expect(() => verifyCircuit(again)).toThrow(
      /reads register 2, .*it is a source of the round: read its fresh copy \(register 3\) instead/,
    );
    verifyCircuit(circuit);
    expect(refreshRounds(circuit).map((r) => [r.start, r.end, r.sources, r.destinations, r.fresh.level])).toEqual([
      [2, 3, [2], [3], 2],
      [5, 6, [5], [6], 2],
    ]);
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

  /** x ↦ x⁸ with both rounds relaid: round 0 reverses the values and copies each once more, round 1 moves them to slots 5…8. */
  function relaid(): Circuit {
    const c = powerOfEight();
    return {
      ...c,
      relayouts: [
        {
          round: 0,
          from: [0, 1, 2, 3],
          to: [
            [3, 100],
            [2, 101],
            [1, 102],
            [0, 103],
          ],
        },
        { round: 1, from: [3, 2, 1, 0], to: [[5], [6], [7], [8]] },
      ],
      outputLayout: { length: N_IN, slots: [[5], [6], [7], [8]] },
    };
  }

  it('a free relayout at a round: the key holder moves x + r, the evaluator moves r the same way; SEAL = sim = float64, other slots 0', async () => {
    const c = relaid();
    verifyCircuit(c);
    expect(refreshRounds(c).map((r) => r.relayout?.from)).toEqual([
      [0, 1, 2, 3],
      [3, 2, 1, 0],
    ]);
    const sim = runSim(c, inputs, 3);
    const seal = await runSeal(c, inputs, 3);
    for (let n = 0; n < 3; n++)
      for (let j = 0; j < N_IN; j++) {
        const want = exact(n * N_IN + j);
        expect(Math.abs(sim[n]!.logits[j]! - want)).toBeLessThan(1e-9);
        expect(Math.abs(seal.records[n]!.logits[j]! - want)).toBeLessThan(1e-4);
      }
    // every slot the relayout does not write comes back 0 (the masks there are not subtracted either)
    const prepared = new PreparedCircuit(c, be);
    prepared.refreshClient = localRefreshClient(be);
    const ct = be.encrypt(encodeInput(c, inputs.subarray(0, N_IN)), c.inputScale);
    try {
      const { output } = prepared.evaluate(ct);
      const out = be.decrypt(output);
      be.free(output);
      for (const s of [0, 1, 2, 3, 4, 9, 100, 103, 4000]) expect(Math.abs(out[s]!)).toBeLessThan(1e-4);
      for (let j = 0; j < N_IN; j++) expect(Math.abs(out[5 + j]! - exact(j))).toBeLessThan(1e-4);
    } finally {
      be.free(ct);
      prepared.dispose();
    }
    // a key holder that does not move the values (or moves them elsewhere) gets a wrong answer, not an error:
    // the evaluator cannot tell; docs/refresh.md's threat model (a semi-honest client) says so
    const lazy = new PreparedCircuit(c, be);
    lazy.refreshClient = (masked, round) => masked.map((h) => be.encrypt(be.decrypt(h), round.fresh.scale));
    const ct2 = be.encrypt(encodeInput(c, inputs.subarray(0, N_IN)), c.inputScale);
    try {
      const { output } = lazy.evaluate(ct2);
      const out = be.decrypt(output);
      be.free(output);
      expect(Math.abs(out[5]! - exact(0))).toBeGreaterThan(1);
    } finally {
      be.free(ct2);
      lazy.dispose();
    }
  });

  it('the file format keeps relayouts, and refuses one for a round that does not exist, a slot outside the ring or written twice', () => {
    const c = relaid();
    const text = serializeCircuit(c);
    const back = parseCircuit(text, 'x8.json');
    expect(back.relayouts).toEqual(c.relayouts);
    expect(serializeCircuit(back)).toBe(text);
    const mutate = (f: (r: { round: number; from: number[]; to: number[][] }[]) => void) => {
      const j = JSON.parse(text) as { relayouts: { round: number; from: number[]; to: number[][] }[] };
      f(j.relayouts);
      return JSON.stringify(j);
    };
    expect(() =>
      parseCircuit(
        mutate((r) => (r[1]!.round = 2)),
        'bad.json',
      ),
    ).toThrow(/bad\.json: relayouts\[1\]\.round: 2 is not a refresh round of this circuit \(it has 2\)/);
    expect(() =>
      parseCircuit(
        mutate((r) => (r[1]!.round = 0)),
        'bad.json',
      ),
    ).toThrow(/relayouts\[1\]\.round: round 0 has a relayout for its ciphertexts already/);
    expect(() =>
      parseCircuit(
        mutate((r) => (r[0]!.from[2] = 4096)),
        'bad.json',
      ),
    ).toThrow(/relayouts\[0\]\.from\[2\]: 4096 is not a slot \(0…4095\)/);
    expect(() =>
      parseCircuit(
        mutate((r) => (r[0]!.to[1] = [3])),
        'bad.json',
      ),
    ).toThrow(/relayouts\[0\]\.to\[1\]\[0\]: slot 3 is written twice/);
    // a value with no destination is one no later layer reads (a strided shortcut's unread pixels): allowed
    expect(
      parseCircuit(
        mutate((r) => (r[0]!.to[1] = [])),
        'ok.json',
      ).relayouts![0]!.to[1],
    ).toEqual([]);
    expect(() =>
      parseCircuit(
        mutate((r) => Object.assign(r[0]!, { ciphertext: 1 })),
        'bad.json',
      ),
    ).toThrow(/relayouts\[0\]\.ciphertext: 1 is not a ciphertext of round 0 \(it has 1\)/);
    expect(() =>
      parseCircuit(
        mutate((r) => r[0]!.from.pop()),
        'bad.json',
      ),
    ).toThrow(/relayouts\[0\]: 3 source slots for 4 destination lists/);
    expect(() =>
      parseCircuit(
        mutate((r) => (r[0]!.from[0] = -1)),
        'bad.json',
      ),
    ).toThrow(/relayouts\[0\]\.from\[0\]/);
  });
});
