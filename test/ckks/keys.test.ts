import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CkksError } from '../../src/errors.js';
import { CkksEncryptor } from '../../src/ckks/encryption.js';
import { CkksEvaluator } from '../../src/ckks/evaluator.js';
import { galoisElement, normaliseRotationSteps } from '../../src/ckks/galois.js';
import { generateKeys, loadClientKeys, loadEvaluationKeys } from '../../src/ckks/keys.js';
import { kswitchKeysBytes, secretKeyBytes } from '../../src/ckks/wire-format.js';
import { wasmStatus } from '../../src/ckks/wasm.js';
import { fixture, maxAbsDiff, randomValues, SCALE, type Fixture } from './helpers.js';

const STEPS = [1, -1, 3];
let f: Fixture;
let otherParams: Fixture; // same N, other primes
let otherModel: Fixture; // same parameters, other rotation steps
let keyBytes: { relin: Uint8Array; galois: Uint8Array | null };

beforeAll(async () => {
  f = await fixture(STEPS);
  otherParams = await fixture([1, 3], { polyModulusDegree: 8192, coeffModulusBits: [50, 30, 30, 50] });
  otherModel = await fixture([1, 2]);
  keyBytes = f.keys.serializeEvaluationKeys();
});

afterAll(() => {
  f.dispose();
  otherParams.dispose();
  otherModel.dispose();
});

describe('rotation steps and Galois elements', () => {
  it('normalises negative steps to left rotations and rejects steps that do not rotate', () => {
    expect(normaliseRotationSteps([1, -1, 3, 4097, 1], 4096)).toEqual([1, 3, 4095]);
    expect(() => normaliseRotationSteps([0], 4096)).toThrow('rotation step 0 is a multiple of the 4096 slots');
    expect(() => normaliseRotationSteps([8192], 4096)).toThrow(/multiple of the 4096 slots/);
    expect(() => normaliseRotationSteps([1.5], 4096)).toThrow('rotation step 1.5 is not an integer');
    expect(() => generateKeys(f.ctx, { rotationSteps: [0] })).toThrow(CkksError);
  });

  it('elements are 3^k mod 2N', () => {
    expect(galoisElement(1, 8192)).toBe(3);
    expect(galoisElement(2, 8192)).toBe(9);
    expect(galoisElement(-1, 8192)).toBe(galoisElement(4095, 8192));
    let e = 1;
    for (let k = 0; k < 4095; k++) e = (e * 3) % 16384;
    expect(galoisElement(4095, 8192)).toBe(e);
  });
});

describe('client keys', () => {
  it('cover exactly the requested steps', () => {
    expect(f.keys.rotationSteps).toEqual([1, 3, 4095]);
    const ek = f.keys.evaluationKeys();
    expect(ek.rotationSteps).toEqual([1, 3, 4095]);
    expect(ek.hasRotation(-1)).toBe(true);
    expect(ek.hasRotation(2)).toBe(false);
    expect(ek.hasRotation(0)).toBe(false);
    expect(ek.hasRotation(0.5)).toBe(false);
    expect(f.keys.evaluationKeys()).toBe(ek); // cached
  });

  it('serialize in the seeded form: half the size of the full keys, exactly as predicted', () => {
    const n = 8192;
    expect(keyBytes.relin.length).toBe(kswitchKeysBytes(n, 4, 1, 1, true));
    expect(keyBytes.galois!.length).toBe(kswitchKeysBytes(n, 4, 3, n, true));
    expect(kswitchKeysBytes(n, 4, 1, 1, false)).toBe(1573267); // the unseeded size node-seal writes (measured)
    expect(keyBytes.relin.length / kswitchKeysBytes(n, 4, 1, 1, false)).toBeCloseTo(0.5, 2);
    const none = generateKeys(f.ctx).serializeEvaluationKeys();
    expect(none.galois).toBeNull();
  });

  it('the secret key saves and loads (validated) into keys that decrypt the same ciphertexts', () => {
    const sk = f.keys.saveSecretKey();
    expect(sk.length).toBe(secretKeyBytes(8192, 4));
    const again = loadClientKeys(f.ctx, sk, { rotationSteps: STEPS });
    const enc = new CkksEncryptor(again);
    const x = randomValues(100, 5);
    const ct = f.enc.encrypt(x, SCALE);
    expect(maxAbsDiff(enc.decrypt(ct), x)).toBeLessThan(1e-6);
    ct.free();
    enc.dispose();
    again.dispose();
    const bad = Uint8Array.from(sk);
    bad[16] = bad[16]! ^ 1;
    expect(() => loadClientKeys(f.ctx, bad)).toThrow(/secret key: made under other encryption parameters/);
    expect(() => loadClientKeys(otherParams.ctx, sk)).toThrow(/made under other encryption parameters/);
    expect(() => loadClientKeys(f.ctx, sk.subarray(0, 1000))).toThrow(/header says 262232 bytes but 1000 were given/);
  });

  it('dispose is idempotent and disposed keys refuse to work', () => {
    const k = generateKeys(f.ctx, { rotationSteps: [2] });
    k.dispose();
    k.dispose();
    expect(() => k.serializeEvaluationKeys()).toThrow('serializeEvaluationKeys: client keys were disposed');
    expect(() => new CkksEncryptor(k)).toThrow('encryptor: client keys were disposed');
  });
});

describe('loadEvaluationKeys (the server side)', () => {
  it('loads seeded uploads into keys that evaluate correctly', () => {
    const ek = loadEvaluationKeys(f.ctx, keyBytes, { rotationSteps: [3, 1, -1] });
    expect(ek.rotationSteps).toEqual([1, 3, 4095]);
    const ev = new CkksEvaluator(f.ctx, ek);
    const x = randomValues(4096, 9);
    const ct = f.enc.encrypt(x, SCALE);
    const r = ev.rotate(ct, -1);
    const sq = ev.mul(ct, ct);
    const dr = f.enc.decrypt(r);
    const ds = f.enc.decrypt(sq);
    // key-switching noise at a 2^40 scale is ~1e-7 per slot with a random tail (1.2e-6 seen once in 4096 slots);
    // a wrong or mismatched key gives errors of the order of the values themselves
    for (let i = 0; i < 4096; i++) {
      expect(Math.abs(dr[i]! - x[(i + 4095) % 4096]!)).toBeLessThan(1e-5);
      expect(Math.abs(ds[i]! - x[i]! * x[i]!)).toBeLessThan(1e-5);
    }
    for (const c of [ct, r, sq]) c.free();
    ek.dispose();
  });

  it('rejects keys for other parameters, another model, or the wrong shape, before SEAL reads them', () => {
    const faults = wasmStatus().faults;
    const otherP = otherParams.keys.serializeEvaluationKeys();
    const otherM = otherModel.keys.serializeEvaluationKeys();
    const load =
      (b: { relin: Uint8Array; galois?: Uint8Array | null }, steps = STEPS) =>
      () =>
        loadEvaluationKeys(f.ctx, b, { rotationSteps: steps });
    expect(load(otherP)).toThrow(/relinearisation keys: made under other encryption parameters/);
    expect(load({ relin: keyBytes.relin, galois: otherP.galois })).toThrow(/galois keys: made under other encryption parameters/);
    expect(load({ relin: keyBytes.relin, galois: otherM.galois })).toThrow(
      'galois keys: missing rotation steps [3, 4095]; 1 key(s) for rotations this circuit does not use (keys made for another model?)',
    );
    expect(load(keyBytes, [1, 3, 4095, 5])).toThrow('galois keys: missing rotation steps [5]');
    expect(load(keyBytes, [1, 3])).toThrow('galois keys: 1 key(s) for rotations this circuit does not use');
    expect(load({ relin: keyBytes.relin })).toThrow('galois keys: missing (the circuit rotates by [1, 3, 4095])');
    expect(load(keyBytes, [])).toThrow('galois keys: given, but the circuit uses no rotations');
    expect(load({ relin: keyBytes.galois!, galois: keyBytes.galois })).toThrow('relinearisation keys: 8192 key slots, relin keys have 1');
    expect(load({ relin: keyBytes.relin, galois: keyBytes.relin })).toThrow('galois keys: 1 key slots, galois keys have 8192');
    expect(load({ relin: keyBytes.relin.subarray(0, 5000), galois: keyBytes.galois })).toThrow(
      /header says 787078 bytes but 5000 were given/,
    );
    const cut = Uint8Array.from(keyBytes.galois!.subarray(0, 100000));
    new DataView(cut.buffer).setBigUint64(8, 100000n, true);
    expect(load({ relin: keyBytes.relin, galois: cut })).toThrow(/galois keys: (truncated|.*claims)/);
    expect(load({ relin: new Uint8Array(787078), galois: keyBytes.galois })).toThrow(/relinearisation keys: not SEAL data/);
    expect(load(null as never)).toThrow('evaluation keys: expected { relin, galois }');
    expect(wasmStatus().faults).toBe(faults);
  });
});

describe('memory', () => {
  it('opening and closing sessions (keys loaded, ciphertexts loaded and rotated, keys disposed) does not grow the heap', async () => {
    const { loadCiphertext, saveCiphertext } = await import('../../src/ckks/ciphertext.js');
    const { wasmHeapBytes } = await import('../../src/ckks/wasm.js');
    const upload = f.enc.encryptSerialized(randomValues(4096, 3), SCALE);
    const session = () => {
      const ek = loadEvaluationKeys(f.ctx, keyBytes, { rotationSteps: STEPS });
      const ev = new CkksEvaluator(f.ctx, ek);
      for (let j = 0; j < 3; j++) {
        const c = loadCiphertext(f.ctx, upload, { level: 2 });
        const r = ev.rotate(c, 3);
        saveCiphertext(r);
        c.free();
        r.free();
      }
      ek.dispose();
    };
    for (let i = 0; i < 3; i++) session();
    const heap = wasmHeapBytes();
    for (let i = 0; i < 12; i++) session();
    expect(wasmHeapBytes()).toBe(heap);
  });
});
