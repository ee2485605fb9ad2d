/**
 * Homomorphic operations with SEAL's preconditions checked in JS first (levels, scales, scale bounds, keys,
 * transparent results), so a wrong plan gets a CkksError naming the op instead of a WASM exception. Every op
 * returns a new Ciphertext owned by the caller; SEAL's stored scale is read back, so handles always agree with SEAL.
 */
import { CkksError } from '../errors.js';
import { Ciphertext, type SealCipherText } from './ciphertext.js';
import type { CkksContext } from './context.js';
import { normaliseRotationStep } from './galois.js';
import type { EvaluationKeys } from './keys.js';
import type { Plaintext } from './plaintext.js';
import { callSeal, freeSeal } from './wasm.js';

/** SEAL's are_same_scale: |a − b| < ε·max(|a|, |b|, 1). */
export function sameScale(a: number, b: number): boolean {
  return Math.abs(a - b) < Number.EPSILON * Math.max(Math.abs(a), Math.abs(b), 1);
}

function describeScale(s: number): string {
  return `${s} (2^${Math.log2(s).toFixed(4)})`;
}

export class CkksEvaluator {
  readonly context: CkksContext;
  readonly keys: EvaluationKeys | null;

  /** `keys` are needed for mul (relinearisation) and rotate; they must outlive the evaluator. */
  constructor(context: CkksContext, keys: EvaluationKeys | null = null) {
    if (keys && keys.context !== context) throw new CkksError('evaluator: evaluation keys belong to another CKKS context');
    this.context = context;
    this.keys = keys;
  }

  #ct(a: Ciphertext, what: string): SealCipherText {
    this.context.assertLive(what);
    if (!(a instanceof Ciphertext)) throw new CkksError(`${what}: not a ciphertext`);
    if (a.context !== this.context) throw new CkksError(`${what}: ciphertext belongs to another CKKS context`);
    return a.sealObject(what);
  }

  #pt(p: Plaintext, level: number, what: string): ReturnType<Plaintext['sealObject']> {
    if (p.context !== this.context) throw new CkksError(`${what}: plaintext belongs to another CKKS context`);
    const obj = p.sealObject(what);
    if (p.level !== level) throw new CkksError(`${what}: plaintext is at level ${p.level}, ciphertext at level ${level}`);
    return obj;
  }

  #sameLevelAndScale(a: Ciphertext, b: { level: number; scale: number }, what: string, other = 'second operand'): void {
    if (a.level !== b.level) throw new CkksError(`${what}: levels differ (${a.level} vs ${other} ${b.level})`);
    if (!sameScale(a.scale, b.scale)) {
      throw new CkksError(`${what}: scales differ (${describeScale(a.scale)} vs ${other} ${describeScale(b.scale)})`);
    }
  }

  /** Run a SEAL op writing into a fresh ciphertext; wrap it at `level` with SEAL's resulting scale. */
  #into(what: string, level: number, op: (dest: SealCipherText) => void): Ciphertext {
    const ctx = this.context;
    const dest = callSeal(what, () => ctx.seal.CipherText({ pool: ctx.pool }));
    try {
      callSeal(what, () => op(dest));
      const scale = callSeal(what, () => dest.scale);
      return new Ciphertext(ctx, dest, level, scale);
    } catch (err) {
      freeSeal(dest, what);
      throw err;
    }
  }

  add(a: Ciphertext, b: Ciphertext): Ciphertext {
    const x = this.#ct(a, 'add');
    const y = this.#ct(b, 'add');
    this.#sameLevelAndScale(a, b, 'add');
    return this.#into('add', a.level, (d) => this.context.evaluator.add(x, y, d));
  }

  /** a ← a + b in place (no new ciphertext, no copy); same level and scale required. */
  addInPlace(a: Ciphertext, b: Ciphertext): void {
    const x = this.#ct(a, 'addInPlace');
    const y = this.#ct(b, 'addInPlace');
    if (a === b) throw new CkksError('addInPlace: both operands are the same ciphertext (use add)');
    this.#sameLevelAndScale(a, b, 'addInPlace');
    callSeal('addInPlace', () => this.context.evaluator.add(x, y, x));
  }

  sub(a: Ciphertext, b: Ciphertext): Ciphertext {
    const x = this.#ct(a, 'sub');
    const y = this.#ct(b, 'sub');
    if (a === b) throw new CkksError('sub: a ciphertext minus itself is a transparent (unencrypted) zero; use a plaintext zero');
    this.#sameLevelAndScale(a, b, 'sub');
    return this.#into('sub', a.level, (d) => this.context.evaluator.sub(x, y, d));
  }

  negate(a: Ciphertext): Ciphertext {
    const x = this.#ct(a, 'negate');
    return this.#into('negate', a.level, (d) => this.context.evaluator.negate(x, d));
  }

  addPlain(a: Ciphertext, p: Plaintext): Ciphertext {
    const x = this.#ct(a, 'addPlain');
    const y = this.#pt(p, a.level, 'addPlain');
    this.#sameLevelAndScale(a, p, 'addPlain', 'plaintext');
    return this.#into('addPlain', a.level, (d) => this.context.evaluator.addPlain(x, y, d, this.context.pool));
  }

  /** Ciphertext × plaintext, no rescale: the scale multiplies. */
  mulPlain(a: Ciphertext, p: Plaintext): Ciphertext {
    const x = this.#ct(a, 'mulPlain');
    const y = this.#pt(p, a.level, 'mulPlain');
    if (p.isZero) throw new CkksError('mulPlain: plaintext encodes to zero; the product would be a transparent ciphertext (drop the term)');
    this.context.checkScale(a.level, a.scale * p.scale, 'mulPlain');
    return this.#into('mulPlain', a.level, (d) => this.context.evaluator.multiplyPlain(x, y, d, this.context.pool));
  }

  /** Ciphertext × ciphertext then relinearisation, no rescale. */
  mul(a: Ciphertext, b: Ciphertext): Ciphertext {
    const x = this.#ct(a, 'mul');
    const y = this.#ct(b, 'mul');
    if (!this.keys) throw new CkksError('mul: no relinearisation keys (build the evaluator with evaluation keys)');
    const relin = this.keys.relinKeys('mul');
    if (a.level !== b.level) throw new CkksError(`mul: levels differ (${a.level} vs second operand ${b.level})`);
    this.context.checkScale(a.level, a.scale * b.scale, 'mul');
    const ev = this.context.evaluator;
    const pool = this.context.pool;
    return this.#into('mul', a.level, (d) => {
      ev.multiply(x, y, d, pool);
      ev.relinearize(d, relin, d, pool);
    });
  }

  /** Drop the last prime q_level: level − 1, scale / q_level. */
  rescale(a: Ciphertext): Ciphertext {
    const x = this.#ct(a, 'rescale');
    if (a.level < 1) throw new CkksError('rescale: ciphertext is at level 0, no prime left to drop');
    const next = a.level - 1;
    this.context.checkScale(next, a.scale / this.context.params.primeValues[a.level]!, 'rescale');
    return this.#into('rescale', next, (d) => this.context.evaluator.rescaleToNext(x, d, this.context.pool));
  }

  /** Modulus-switch down to `level` without changing the scale (a copy when already there). */
  dropToLevel(a: Ciphertext, level: number): Ciphertext {
    const x = this.#ct(a, 'dropToLevel');
    if (!Number.isInteger(level) || level < 0 || level > a.level) {
      throw new CkksError(`dropToLevel: cannot go from level ${a.level} to level ${level}`);
    }
    this.context.checkScale(level, a.scale, 'dropToLevel');
    const id = this.context.parmsIdAt(level);
    return this.#into('dropToLevel', level, (d) => this.context.evaluator.cipherModSwitchTo(x, id, d, this.context.pool));
  }

  /** Cyclic left rotation by `steps` (negative = right), using the Galois key of the normalised step. */
  rotate(a: Ciphertext, steps: number): Ciphertext {
    const x = this.#ct(a, 'rotate');
    let step: number;
    try {
      step = normaliseRotationStep(steps, this.context.slotCount);
    } catch (err) {
      throw new CkksError(`rotate: ${(err as Error).message}`, { cause: err });
    }
    if (!this.keys) throw new CkksError(`rotate: no Galois keys (build the evaluator with evaluation keys)`);
    const galois = this.keys.galoisKeysFor(step, `rotate by ${steps}`);
    return this.#into('rotate', a.level, (d) => this.context.evaluator.rotateVector(x, step, galois, d, this.context.pool));
  }

  /**
   * Relabel the scale in place (SEAL's setScale), only to absorb float64 rounding between a planned scale and
   * SEAL's: throws unless |scale / a.scale − 1| ≤ tolerance.
   */
  setScale(a: Ciphertext, scale: number, tolerance = 1e-9): void {
    this.#ct(a, 'setScale');
    if (!(scale > 0) || !Number.isFinite(scale) || Math.abs(scale / a.scale - 1) > tolerance) {
      throw new CkksError(`setScale: ${scale} is not a rounding of the ciphertext's scale ${a.scale}`);
    }
    this.context.checkScale(a.level, scale, 'setScale');
    a.relabelScale(scale);
  }
}
