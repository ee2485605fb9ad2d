import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CkksError } from '../../src/errors.js';
import { CkksEvaluator, sameScale } from '../../src/ckks/evaluator.js';
import { encodePlaintext } from '../../src/ckks/plaintext.js';
import { wasmStatus } from '../../src/ckks/wasm.js';
import { fixture, randomValues, SCALE, type Fixture } from './helpers.js';

let f: Fixture;
let g: Fixture;
let ev: CkksEvaluator;
const x = randomValues(4096, 11);

beforeAll(async () => {
  f = await fixture([1]);
  g = await fixture([1]);
  ev = new CkksEvaluator(f.ctx, f.keys.evaluationKeys());
});
afterAll(() => {
  f.dispose();
  g.dispose();
});

describe('CkksEvaluator preconditions (checked before SEAL is called)', () => {
  it('name the op and the mismatch', () => {
    const faults = wasmStatus().faults;
    const a = f.enc.encrypt(x, SCALE);
    const b = f.enc.encrypt(x, SCALE * 2);
    const low = ev.dropToLevel(a, 1);
    const ptLow = encodePlaintext(f.ctx, x, 1, SCALE);
    const zero = encodePlaintext(f.ctx, new Float64Array(10), 2, SCALE);
    const atZero = ev.dropToLevel(a, 0);
    expect(() => ev.add(a, low)).toThrow('add: levels differ (2 vs second operand 1)');
    expect(() => ev.add(a, b)).toThrow(
      /add: scales differ \(1099511627776 \(2\^40.0000\) vs second operand 2199023255552 \(2\^41.0000\)\)/,
    );
    expect(() => ev.sub(a, a)).toThrow(/transparent/);
    expect(() => ev.addPlain(a, ptLow)).toThrow('addPlain: plaintext is at level 1, ciphertext at level 2');
    expect(() => ev.mulPlain(a, ptLow)).toThrow('mulPlain: plaintext is at level 1, ciphertext at level 2');
    expect(() => ev.mulPlain(a, zero)).toThrow(/mulPlain: plaintext encodes to zero/);
    expect(() => ev.mul(atZero, atZero)).toThrow(/mul: scale 2\^80.00 is out of bounds at level 0 \(SEAL needs log2\(scale\) < 60\)/);
    expect(() => ev.rescale(atZero)).toThrow('rescale: ciphertext is at level 0, no prime left to drop');
    expect(() => ev.dropToLevel(low, 2)).toThrow('dropToLevel: cannot go from level 1 to level 2');
    expect(() => ev.dropToLevel(a, 0.5)).toThrow('dropToLevel: cannot go from level 2 to level 0.5');
    expect(() => ev.rotate(a, 2)).toThrow('rotate by 2: no Galois key for rotation step 2 (keys hold steps [1])');
    expect(() => ev.rotate(a, 4096)).toThrow(/rotate: rotation step 4096 is a multiple/);
    expect(() => ev.setScale(a, SCALE * 1.001)).toThrow(/setScale: .* is not a rounding/);
    expect(() => new CkksEvaluator(f.ctx).mul(a, a)).toThrow('mul: no relinearisation keys');
    expect(() => new CkksEvaluator(f.ctx).rotate(a, 1)).toThrow('rotate: no Galois keys');
    // another context's objects
    const foreign = g.enc.encrypt(x, SCALE);
    expect(() => ev.add(a, foreign)).toThrow('add: ciphertext belongs to another CKKS context');
    expect(() => new CkksEvaluator(f.ctx, g.keys.evaluationKeys())).toThrow('evaluator: evaluation keys belong to another CKKS context');
    // freed handles
    b.free();
    expect(() => ev.negate(b)).toThrow('negate: ciphertext was freed');
    zero.free();
    expect(() => ev.addPlain(a, zero)).toThrow('addPlain: plaintext was freed');
    expect(wasmStatus().faults).toBe(faults);
    for (const c of [a, low, atZero, foreign]) c.free();
    ptLow.free();
  });

  it('an op SEAL itself rejects (a transparent result) still gives a CkksError and SEAL keeps working', () => {
    const a = f.enc.encrypt(x, SCALE);
    const n = ev.negate(a);
    expect(() => ev.add(a, n)).toThrow(CkksError);
    expect(() => ev.add(a, n)).toThrow(/add: .*transparent/);
    const s = ev.add(a, a);
    expect(f.enc.decrypt(s)[5]).toBeCloseTo(2 * x[5]!, 6);
    for (const c of [a, n, s]) c.free();
  });

  it('addInPlace adds into its first operand, leaves the second alone, and checks like add', () => {
    const a = f.enc.encrypt(x, SCALE);
    const b = f.enc.encrypt(
      x.map((v) => 2 * v),
      SCALE,
    );
    const low = ev.dropToLevel(b, 1);
    ev.addInPlace(a, b);
    expect(a.level).toBe(2);
    expect(a.scale).toBe(SCALE);
    const sum = f.enc.decrypt(a);
    const second = f.enc.decrypt(b);
    for (const i of [0, 7, 4095]) {
      expect(sum[i]).toBeCloseTo(3 * x[i]!, 5);
      expect(second[i]).toBeCloseTo(2 * x[i]!, 5);
    }
    expect(() => ev.addInPlace(a, a)).toThrow('addInPlace: both operands are the same ciphertext (use add)');
    expect(() => ev.addInPlace(a, low)).toThrow('addInPlace: levels differ (2 vs second operand 1)');
    for (const c of [a, b, low]) c.free();
  });

  it("sameScale is SEAL's are_close", () => {
    expect(sameScale(SCALE, SCALE * (1 + 1e-16))).toBe(true);
    expect(sameScale(SCALE, SCALE * (1 + 1e-15))).toBe(false);
  });
});
