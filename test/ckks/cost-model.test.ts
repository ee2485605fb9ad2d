import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveCiphertext } from '../../src/ckks/ciphertext.js';
import {
  committedOpCosts,
  fitCost,
  predictOpMs,
  predictSizes,
  validateOpCostTable,
  type OpCostTable,
} from '../../src/ckks/params/cost-model.js';
import { CkksEvaluator } from '../../src/ckks/evaluator.js';
import { generateKeys } from '../../src/ckks/keys.js';
import { fixture, randomValues, SCALE, SMALL, type Fixture } from './helpers.js';

let f: Fixture;
beforeAll(async () => {
  f = await fixture([1, -1, 7]);
});
afterAll(() => f.dispose());

describe('predictSizes', () => {
  it('is exact for every serialized object', () => {
    const p = predictSizes(SMALL, [1, -1, 7]);
    const ev = new CkksEvaluator(f.ctx);
    const ct = f.enc.encrypt(randomValues(10, 1), SCALE);
    for (let level = 0; level <= 2; level++) {
      const c = ev.dropToLevel(ct, level);
      expect(saveCiphertext(c).length).toBe(p.ciphertext[level]);
      c.free();
    }
    ct.free();
    expect(f.enc.encryptSerialized(randomValues(10, 2), SCALE).length).toBe(p.seededCiphertext);
    const seeded = f.keys.serializeEvaluationKeys();
    const full = f.keys.evaluationKeys().serialize();
    expect([seeded.relin.length, seeded.galois!.length]).toEqual([p.seededRelinKeys, p.seededGaloisKeys]);
    expect([full.relin.length, full.galois!.length]).toEqual([p.relinKeys, p.galoisKeys]);
    expect(p.evaluationKeyUpload).toBe(seeded.relin.length + seeded.galois!.length);
    expect(f.keys.evaluationKeys().byteSize).toBe(full.relin.length + full.galois!.length);
    const none = predictSizes(SMALL, []);
    expect([none.galoisKeys, none.seededGaloisKeys, none.evaluationKeyUpload]).toEqual([null, null, none.seededRelinKeys]);
    expect(generateKeys(f.ctx).serializeEvaluationKeys().galois).toBeNull();
  });

  it("matches REFERENCE.md's measured ciphertext sizes (N=8192 and 16384, no compression)", () => {
    expect(predictSizes(SMALL, []).ciphertext[2]).toBe(393329);
    expect(predictSizes({ polyModulusDegree: 16384, coeffModulusBits: [60, 40, 40, 40, 40, 40, 40, 60] }, []).ciphertext[6]).toBe(1835121);
  });
});

describe('predictOpMs', () => {
  it('reads the committed bench table and grows with the level, key switching fastest', () => {
    const t = committedOpCosts();
    expect(t.format).toBe('pann-op-costs');
    for (const n of [8192, 16384]) {
      for (const op of ['add', 'mulPlain', 'rescale', 'mul', 'rotate', 'decrypt'] as const) {
        expect(predictOpMs(op, n, 0)).toBeGreaterThan(0);
      }
      expect(predictOpMs('mul', n, 6)).toBeGreaterThan(predictOpMs('mul', n, 1));
      expect(predictOpMs('rotate', n, 6)).toBeGreaterThan(predictOpMs('rotate', n, 1));
      expect(predictOpMs('rotate', n, 2)).toBeGreaterThan(predictOpMs('mulPlain', n, 2));
      expect(predictOpMs('mul', n, 2)).toBeGreaterThan(5 * predictOpMs('add', n, 2));
    }
    expect(predictOpMs('mul', 16384, 3)).toBeGreaterThan(predictOpMs('mul', 8192, 3));
    expect(predictOpMs('sub', 8192, 2)).toBe(predictOpMs('add', 8192, 2));
    expect(predictOpMs('setScale', 8192, 2)).toBe(0);
    expect(predictOpMs('mul', 32768, 3)).toBeGreaterThan(predictOpMs('mul', 16384, 3)); // extrapolated
    expect(() => predictOpMs('fly' as never, 8192, 2)).toThrow('predictOpMs: unknown op fly');
    expect(() => predictOpMs('add', 8192, -1)).toThrow('predictOpMs: level -1 is not a level');
  });

  it('fits a + b·p + c·p² by least squares', () => {
    const pts = [1, 2, 3, 5, 8].map((p) => ({ primes: p, ms: 0.5 + 0.25 * p + 0.125 * p * p }));
    const q = fitCost(pts, true);
    expect(q.a).toBeCloseTo(0.5, 10);
    expect(q.b).toBeCloseTo(0.25, 10);
    expect(q.c).toBeCloseTo(0.125, 10);
    const l = fitCost(
      pts.slice(0, 2).map((x) => ({ ...x, ms: 1 + 2 * x.primes })),
      true,
    ); // 2 levels: linear
    expect([l.a, l.b, l.c].map((v) => +v.toFixed(10))).toEqual([1, 2, 0]);
    expect(fitCost([{ primes: 4, ms: 2 }], false)).toEqual({ a: 0, b: 0.5, c: 0 });
    const through0 = fitCost(
      [1, 2, 3].map((p) => ({ primes: p, ms: 3 * p - 1 })),
      false,
    ); // would need a < 0
    expect(through0.a).toBe(0);
    expect(through0.b).toBeGreaterThan(2);
  });

  it('validates a table, naming the bad field', () => {
    const good = committedOpCosts();
    expect(() => validateOpCostTable(null)).toThrow('op-costs: not a JSON object');
    expect(() => validateOpCostTable({ ...good, format: 'x' })).toThrow('op-costs: format is "x", expected "pann-op-costs"');
    expect(() => validateOpCostTable({ ...good, version: 2 })).toThrow('op-costs: version 2 is not supported');
    const broken = JSON.parse(JSON.stringify(good)) as OpCostTable;
    delete (broken.fits['8192'] as Partial<OpCostTable['fits'][string]>).mul;
    expect(() => validateOpCostTable(broken)).toThrow('op-costs: fits.8192.mul is missing or not numeric');
  });
});

describe('robust fitting', () => {
  it('ignores a median that another process inflated', async () => {
    const { robustFitCost } = await import('../../src/ckks/params/cost-model.js');
    const pts = [1, 2, 3, 4, 5, 6, 7, 8].map((p) => ({ primes: p, ms: 1 + 0.5 * p * p }));
    pts[6] = { primes: 7, ms: 200 };
    const f = robustFitCost(pts, true);
    expect(f.c).toBeCloseTo(0.5, 8);
    expect(f.a).toBeCloseTo(1, 6);
  });
});
