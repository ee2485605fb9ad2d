import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CkksEvaluator } from '../../src/ckks/evaluator.js';
import { encodeConstant, encodePlaintext } from '../../src/ckks/plaintext.js';
import { fixture, randomValues, SCALE, type Fixture } from './helpers.js';

/** Constants built in SEAL's wire format (no FFT) equal what the vector encoder produces. */
describe('encodeConstant', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await fixture();
  });
  afterAll(() => f?.dispose());

  it('decodes to the constant in every slot, at every level, for negative and large values', () => {
    for (const [value, level, scale] of [
      [0.375, 2, SCALE],
      [-1.25, 1, SCALE],
      [3.5e3, 0, 2 ** 20],
      [-7e-3, 2, 2 ** 80],
    ] as const) {
      const pt = encodeConstant(f.ctx, value, level, scale);
      try {
        const slots = f.ctx.encoder.decode(pt.sealObject('test'));
        expect(slots).toHaveLength(f.ctx.slotCount);
        for (const v of [slots[0]!, slots[123]!, slots[slots.length - 1]!]) expect(v).toBeCloseTo(value, 6);
        expect(pt.level).toBe(level);
        expect(pt.isZero).toBe(false);
      } finally {
        pt.free();
      }
    }
  });

  it('multiplies a ciphertext exactly like an FFT-encoded constant vector', () => {
    const ev = new CkksEvaluator(f.ctx, null);
    const x = randomValues(f.ctx.slotCount, 7);
    const ct = f.enc.encryptSymmetric(x, SCALE);
    const a = encodeConstant(f.ctx, -0.6, 2, SCALE);
    const b = encodePlaintext(f.ctx, new Float64Array(f.ctx.slotCount).fill(-0.6), 2, SCALE);
    const ya = ev.mulPlain(ct, a);
    const yb = ev.mulPlain(ct, b);
    try {
      const da = f.enc.decrypt(ya);
      const db = f.enc.decrypt(yb);
      for (let i = 0; i < 64; i++) {
        expect(da[i]).toBeCloseTo(-0.6 * x[i]!, 6);
        expect(da[i]).toBeCloseTo(db[i]!, 6);
      }
    } finally {
      for (const h of [ct, ya, yb, a, b]) h.free();
    }
  });

  it('rejects non-finite values, bad levels and values that do not fit the modulus', () => {
    expect(() => encodeConstant(f.ctx, NaN, 1, SCALE)).toThrow(/not a finite number/);
    expect(() => encodeConstant(f.ctx, 1, 7, SCALE)).toThrow(/level 7 is outside/);
    expect(() => encodeConstant(f.ctx, 2 ** 40, 0, SCALE)).toThrow(/bits/);
  });
});
