import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RuntimeError } from '../../src/errors.js';
import {
  CkksContext,
  CkksParameters,
  generateKeys,
  loadEvaluationKeys,
  wasmHeapBytes,
  wasmStatus,
  type ClientKeys,
} from '../../src/ckks/index.js';
import { compileNetwork, type ApproximationProvider } from '../../src/compiler/compile.js';
import { encodeInput, decodeOutput, PreparedCircuit } from '../../src/runtime/executor.js';
import { SealBackend } from '../../src/runtime/seal-backend.js';
import { SimBackend } from '../../src/runtime/sim-backend.js';
import { argmaxOf } from '../../src/runtime/inference.js';
import type { CipherHandle } from '../../src/runtime/backend.js';
import { inputs, tinyModel } from '../compiler/fixtures.js';

const PARAMS = { polyModulusDegree: 8192, coeffModulusBits: [60, 40, 40, 60] };
const SCALE = 2 ** 40;
const SLOTS = 4096;
const TOL = 1e-5;

function values(seed: number): Float64Array {
  let s = seed;
  return Float64Array.from({ length: SLOTS }, () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1);
}
const x = values(1);
const y = values(2);
const rotated = (v: Float64Array, k: number) => Float64Array.from(v, (_, i) => v[(((i + k) % SLOTS) + SLOTS) % SLOTS]!);

let be: SealBackend;
beforeAll(async () => {
  be = await SealBackend.create(PARAMS, { rotationSteps: [1, -3, 5] });
});
afterAll(() => be.dispose());

function expectClose(h: CipherHandle, want: ArrayLike<number>, tol = TOL): void {
  const got = be.decrypt(h);
  let err = 0;
  for (let i = 0; i < SLOTS; i++) err = Math.max(err, Math.abs(got[i]! - want[i]!));
  expect(err).toBeLessThan(tol);
}

describe('SealBackend ops against plaintext math', () => {
  it('reports the SEAL parameters', () => {
    expect(be.kind).toBe('seal');
    expect([be.slotCount, be.maxLevel]).toEqual([4096, 2]);
    // the primes as the doubles SEAL divides scales by (the literals round to exactly those doubles)
    // eslint-disable-next-line no-loss-of-precision
    expect(be.primes).toEqual([1152921504606748673, 1099510890497, 1099511480321, 1152921504606830593]);
  });

  it('encrypt/decrypt, add, sub, negate, addPlain, mulPlain, mul', () => {
    const a = be.encrypt(x, SCALE);
    const b = be.encrypt(y, SCALE);
    expect([a.level, a.scale]).toEqual([2, SCALE]);
    expectClose(a, x);
    expectClose(
      be.add(a, b),
      x.map((v, i) => v + y[i]!),
    );
    expectClose(
      be.sub(a, b),
      x.map((v, i) => v - y[i]!),
    );
    expectClose(
      be.negate(a),
      x.map((v) => -v),
    );
    const p = be.encode(y, 2, SCALE);
    expectClose(
      be.addPlain(a, p),
      x.map((v, i) => v + y[i]!),
    );
    const w = be.encode(y, 2, 2 ** 30);
    const mp = be.mulPlain(a, w);
    expect(mp.scale).toBe(SCALE * 2 ** 30);
    expectClose(
      mp,
      x.map((v, i) => v * y[i]!),
    );
    const m = be.mul(a, b);
    expect([m.level, m.scale]).toEqual([2, SCALE * SCALE]);
    expectClose(
      m,
      x.map((v, i) => v * y[i]!),
    );
  });

  it('rescale divides the scale by the dropped prime as a double; dropToLevel keeps it', () => {
    const a = be.encrypt(x, SCALE);
    const m = be.mul(a, a);
    const r = be.rescale(m);
    expect(r.level).toBe(1);
    expect(r.scale).toBe((SCALE * SCALE) / be.primes[2]!);
    expectClose(
      r,
      x.map((v) => v * v),
    );
    const r2 = be.rescale(be.mul(r, r));
    expect(r2.level).toBe(0);
    expect(r2.scale).toBe((r.scale * r.scale) / be.primes[1]!);
    expectClose(
      r2,
      x.map((v) => v ** 4),
      1e-4,
    );
    const lowPlain = be.encode(y, 1, 2 ** 30);
    expectClose(
      be.mulPlain(r, lowPlain),
      x.map((v, i) => v * v * y[i]!),
    );
    expectClose(
      be.addPlain(r, be.encode(y, 1, r.scale)),
      x.map((v, i) => v * v + y[i]!),
    );
    const d = be.dropToLevel(a, 0);
    expect([d.level, d.scale]).toEqual([0, SCALE]);
    expectClose(d, x);
    const same = be.dropToLevel(a, 2);
    expect([same.level, same.scale]).toEqual([2, SCALE]);
    be.setScale(r, r.scale * (1 + 1e-12));
    expect(r.scale).toBe(((SCALE * SCALE) / be.primes[2]!) * (1 + 1e-12));
  });

  it('rotates left for positive steps and right for negative ones, with exactly the requested keys', () => {
    const a = be.encrypt(x, SCALE);
    expectClose(be.rotate(a, 1), rotated(x, 1));
    expectClose(be.rotate(a, -3), rotated(x, -3));
    expectClose(be.rotate(a, 5), rotated(x, 5));
    expectClose(be.rotate(a, SLOTS - 3), rotated(x, -3)); // the same key
    expect(() => be.rotate(a, 2)).toThrow(RuntimeError);
    expect(() => be.rotate(a, 2)).toThrow('rotate by 2: no Galois key for rotation step 2 (keys hold steps [1, 5, 4093])');
    const low = be.rescale(be.mul(a, a));
    expectClose(
      be.rotate(low, 1),
      rotated(
        x.map((v) => v * v),
        1,
      ),
    );
  });

  it('throws RuntimeErrors naming the op, never reaching SEAL', () => {
    const faults = wasmStatus().faults;
    const a = be.encrypt(x, SCALE);
    const low = be.dropToLevel(a, 1);
    expect(() => be.add(a, low)).toThrow(RuntimeError);
    expect(() => be.add(a, low)).toThrow('add: levels differ (2 vs second operand 1)');
    expect(() => be.mulPlain(a, be.encode(x, 1, SCALE))).toThrow('mulPlain: plaintext is at level 1, ciphertext at level 2');
    expect(() => be.rescale(be.dropToLevel(a, 0))).toThrow('rescale: ciphertext is at level 0, no prime left to drop');
    expect(() => be.encode(new Float64Array(SLOTS + 1), 2, SCALE)).toThrow('encode: 4097 values do not fit in 4096 slots');
    const sim = new SimBackend({ params: CkksParameters.from({ polyModulusDegree: 2 * SLOTS, coeffModulusBits: [60, 40, 40, 60] }) });
    expect(() => be.add(a, sim.encrypt(x, SCALE))).toThrow('add: not a ciphertext of this seal backend');
    expect(() => be.free(sim.encrypt(x, SCALE))).toThrow('free: not a handle of this seal backend');
    be.free(low);
    be.free(low); // idempotent
    expect(() => be.negate(low)).toThrow('negate: ciphertext handle was freed');
    expect(wasmStatus().faults).toBe(faults);
  });

  it('dispose frees every handle it still owns', async () => {
    const local = await SealBackend.create(PARAMS);
    const a = local.encrypt(x, SCALE);
    local.add(a, a);
    local.encode(x, 1, SCALE);
    expect(local.liveHandles).toBe(3);
    local.dispose();
    local.dispose();
    expect(local.liveHandles).toBe(0);
    expect(() => local.negate(a)).toThrow('negate: the seal backend was disposed');
  });
});

describe('client/server split', () => {
  let ctx: CkksContext;
  let client: ClientKeys;
  beforeAll(async () => {
    ctx = await CkksContext.create(PARAMS);
    client = generateKeys(ctx, { rotationSteps: [2] });
  });
  afterAll(() => {
    client.dispose();
    ctx.dispose();
  });

  it('a server backend with only evaluation keys computes on uploaded ciphertexts and cannot encrypt or decrypt', () => {
    const evalKeys = loadEvaluationKeys(ctx, client.serializeEvaluationKeys(), { rotationSteps: [2] });
    const server = new SealBackend(ctx, { evaluationKeys: evalKeys });
    const local = new SealBackend(ctx, { clientKeys: client });
    const upload = local.saveCiphertext(local.encrypt(x, SCALE));
    const h = server.loadCiphertext(upload, { level: 2, scale: SCALE });
    const out = server.saveCiphertext(server.rescale(server.mul(server.rotate(h, 2), h)));
    expect(() => server.encrypt(x, SCALE)).toThrow('encrypt: this seal backend has no public key (evaluation-only, e.g. on a server)');
    expect(() => server.decrypt(h)).toThrow('decrypt: this seal backend has no secret key');
    expect(() => server.loadCiphertext(upload.subarray(1))).toThrow(/ciphertext: not SEAL data/);
    const result = local.decrypt(local.loadCiphertext(out, { level: 1 }));
    const want = rotated(x, 2).map((v, i) => v * x[i]!);
    for (let i = 0; i < SLOTS; i += 97) expect(result[i]).toBeCloseTo(want[i]!, 5);
    server.dispose();
    local.dispose();
    const foreignKeys = generateKeys(be.context);
    expect(() => new SealBackend(ctx, { clientKeys: foreignKeys })).toThrow('seal backend: client keys belong to another CKKS context');
    foreignKeys.dispose();
    evalKeys.dispose();
  });
});

describe('with the executor', () => {
  it("a compiled circuit gives the sim backend's outputs", async () => {
    const model = tinyModel('square', 'square');
    // x² exactly: on [−B, B], B²·t² = B²·(T0 + T2)/2
    const square: ApproximationProvider = ({ activation, B }) => ({
      approximation: {
        activation: activation.toString(),
        method: 'chebyshev',
        interval: [-B, B],
        stages: [{ interval: [-B, B], coefficients: [(B * B) / 2, 0, (B * B) / 2] }],
        finish: 'none',
      },
      maxError: 0,
      source: 'exact square',
    });
    const circuit = compileNetwork(model, {
      precisionBits: 10,
      scaleBits: 21,
      calibration: { inputs: inputs(50, 3), count: 50, label: 'test' },
      provider: square,
      ringDimensions: [8192],
      refresh: { maxRounds: 0 },
    });
    const seal = await SealBackend.create(
      { polyModulusDegree: circuit.params.polyModulusDegree, coeffModulusBits: circuit.params.coeffModulusBits },
      { rotationSteps: circuit.rotationSteps },
    );
    const sim = new SimBackend({ params: circuit.params });
    const ps = new PreparedCircuit(circuit, seal);
    const pm = new PreparedCircuit(circuit, sim);
    const xs = inputs(2, 41);
    for (let s = 0; s < 2; s++) {
      const slots = encodeInput(circuit, xs.subarray(s * 64, (s + 1) * 64));
      const ct = seal.encrypt(slots, circuit.inputScale);
      const { output } = ps.evaluate(ct);
      const got = decodeOutput(circuit, seal.decrypt(output));
      const want = decodeOutput(circuit, sim.decrypt(pm.evaluate(sim.encrypt(slots, circuit.inputScale)).output));
      // 21-bit scales: CKKS noise of ~1e-2 on the logits is typical and ~5e-2 its tail (the sim's noise model);
      // three times the tail keeps this random quantity from flaking while still catching a wrong circuit
      for (let i = 0; i < got.length; i++) expect(Math.abs(got[i]! - want[i]!)).toBeLessThan(0.15);
      expect(argmaxOf(got)).toBe(argmaxOf(want));
      seal.free(ct);
      seal.free(output);
    }
    ps.dispose();
    expect(seal.liveHandles).toBe(0);
    seal.dispose();
  });
});

describe('memory', () => {
  it('200 encrypt → ops → decrypt cycles: the WASM heap stops growing after warm-up and no handle leaks', () => {
    const cycle = () => {
      const a = be.encrypt(x, SCALE);
      const p = be.mul(a, a);
      const m = be.rescale(p);
      const r = be.rotate(m, 1);
      const s = be.add(r, m);
      be.decrypt(s);
      for (const h of [a, p, m, r, s]) be.free(h);
    };
    const live = be.liveHandles;
    for (let i = 0; i < 20; i++) cycle();
    const heap = wasmHeapBytes();
    for (let i = 0; i < 180; i++) cycle();
    expect(wasmHeapBytes()).toBe(heap);
    expect(be.liveHandles).toBe(live);
  });
});
