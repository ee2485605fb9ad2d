/**
 * The `sim` backend: executes a circuit in float64 plaintext, op for op, with SEAL's level and scale
 * bookkeeping and preconditions, and optionally CKKS-like noise so precision studies can run the whole test
 * split at plaintext speed.
 *
 * Noise: the model of src/ckks/params/noise.ts, drawn per slot in value units (divided by the ciphertext's scale):
 * - encryption: the public-key encryption error;
 * - rescale: rounding of both polynomials (the dominant CKKS noise);
 * - key switching (rotation; relinearisation, which acts at scale Δ² and is negligible): the same rounding term;
 * - plaintext multiplication: the plaintext's encoding rounding times the ciphertext's magnitude.
 * Checked against SEAL (bench/noise and test/runtime). `noise.scaleFactor` multiplies every std (1 = the model;
 * 0 = exact arithmetic).
 */
import { type CkksParameters, encodingNoiseStd, encryptionNoiseStd, rescaleNoiseStd } from '../ckks/params/index.js';
import type { Backend, CipherHandle, PlainHandle } from './backend.js';
import { RuntimeError } from './errors.js';

export interface SimOptions {
  /** The parameters to simulate (slots, primes, scale bounds). */
  params: CkksParameters;
  /** Add CKKS-like noise. @default undefined (exact arithmetic) */
  noise?: { seed: number; scaleFactor?: number };
}

class SimCipher implements CipherHandle {
  freed = false;
  constructor(
    public data: Float64Array,
    public level: number,
    public scale: number,
  ) {}
}

class SimPlain implements PlainHandle {
  freed = false;
  constructor(
    readonly data: Float64Array,
    readonly level: number,
    readonly scale: number,
    /** Non-zero slots when fewer than half are non-zero (mulPlain/addPlain then touch only those). */
    readonly nonZero: Int32Array | null,
    /** A constant (encodeConstant): exact in SEAL too, so it adds no encoding noise. */
    readonly constant = false,
  ) {}
}

/**
 * Noise source: a table of 2^20 seeded standard normals (Box–Muller over xorshift32), read from a random offset
 * for each noise event — independent enough across events for an error model, and ~20x faster than drawing
 * a fresh normal per slot per op (the study runs whole test splits).
 */
class NoiseTable {
  readonly #table: Float64Array;
  readonly #rng: Gaussian;
  constructor(seed: number, slots: number) {
    this.#rng = new Gaussian(seed);
    this.#table = new Float64Array((1 << 20) + slots);
    for (let i = 0; i < this.#table.length; i++) this.#table[i] = this.#rng.next();
  }
  /** A view of `n` standard normals. */
  draw(n: number): Float64Array {
    const off = Math.floor(this.#rng.uniform() * (this.#table.length - n));
    return this.#table.subarray(off, off + n);
  }
}

/** Standard normal from a seeded xorshift (Box–Muller). */
class Gaussian {
  #s: number;
  #spare: number | null = null;
  constructor(seed: number) {
    this.#s = seed >>> 0 || 0x9e3779b9;
  }
  uniform(): number {
    return this.#u();
  }
  #u(): number {
    let x = this.#s;
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    this.#s = x;
    return (x + 0.5) / 4294967296;
  }
  next(): number {
    if (this.#spare !== null) {
      const s = this.#spare;
      this.#spare = null;
      return s;
    }
    const r = Math.sqrt(-2 * Math.log(this.#u()));
    const th = 2 * Math.PI * this.#u();
    this.#spare = r * Math.sin(th);
    return r * Math.cos(th);
  }
}

export class SimBackend implements Backend {
  readonly kind = 'sim' as const;
  readonly slotCount: number;
  readonly maxLevel: number;
  readonly primes: readonly number[];
  readonly #params: CkksParameters;
  readonly #gauss: NoiseTable | null;
  readonly #noiseFactor: number;
  readonly #rescaleStd: number;
  readonly #encryptStd: number;
  readonly #encodeStd: number;

  constructor(opts: SimOptions) {
    const p = opts.params;
    this.#params = p;
    this.slotCount = p.slotCount;
    this.primes = p.primeValues;
    this.maxLevel = p.maxLevel;
    this.#gauss = opts.noise && (opts.noise.scaleFactor ?? 1) !== 0 ? new NoiseTable(opts.noise.seed, p.slotCount) : null;
    this.#noiseFactor = opts.noise?.scaleFactor ?? 1;
    this.#rescaleStd = rescaleNoiseStd(p.polyModulusDegree);
    this.#encryptStd = encryptionNoiseStd(p.polyModulusDegree);
    this.#encodeStd = encodingNoiseStd(p.polyModulusDegree);
  }

  #live<T extends { freed: boolean }>(h: unknown, what: string, cls: new (...a: never[]) => T): T {
    if (!(h instanceof cls)) throw new RuntimeError(`${what}: not a handle of this sim backend`);
    if (h.freed) throw new RuntimeError(`${what}: handle was freed`);
    return h;
  }
  #ct(h: CipherHandle, what: string): SimCipher {
    return this.#live(h, what, SimCipher);
  }
  #pt(h: PlainHandle, what: string): SimPlain {
    return this.#live(h, what, SimPlain);
  }

  #checkScale(level: number, scale: number, what: string): void {
    if (!this.#params.sealAcceptsScale(level, scale)) {
      throw new RuntimeError(`${what}: scale 2^${Math.log2(scale).toFixed(1)} out of bounds at level ${level}`);
    }
  }

  /** Add Gaussian noise of std `coeffStd`/scale to every slot. */
  #noise(c: SimCipher, coeffStd: number): void {
    if (!this.#gauss) return;
    const std = (this.#noiseFactor * coeffStd) / c.scale;
    const d = c.data;
    const z = this.#gauss.draw(d.length);
    for (let i = 0; i < d.length; i++) d[i] = d[i]! + std * z[i]!;
  }

  encode(values: Float64Array, level: number, scale: number): PlainHandle {
    if (values.length > this.slotCount) throw new RuntimeError(`encode: ${values.length} values > ${this.slotCount} slots`);
    if (!Number.isInteger(level) || level < 0 || level > this.maxLevel) throw new RuntimeError(`encode: level ${level} out of range`);
    this.#checkScale(level, scale, 'encode');
    const data = new Float64Array(this.slotCount);
    data.set(values);
    let nz = 0;
    for (let i = 0; i < values.length; i++) if (values[i] !== 0) nz++;
    let nonZero: Int32Array | null = null;
    if (nz < this.slotCount / 2) {
      nonZero = new Int32Array(nz);
      let k = 0;
      for (let i = 0; i < values.length; i++) if (values[i] !== 0) nonZero[k++] = i;
    }
    return new SimPlain(data, level, scale, nonZero);
  }

  encodeConstant(value: number, level: number, scale: number): PlainHandle {
    if (!Number.isFinite(value)) throw new RuntimeError(`encodeConstant: value ${value} is not a finite number`);
    if (!Number.isInteger(level) || level < 0 || level > this.maxLevel)
      throw new RuntimeError(`encodeConstant: level ${level} out of range`);
    this.#checkScale(level, scale, 'encodeConstant');
    return new SimPlain(new Float64Array(this.slotCount).fill(value), level, scale, null, true);
  }

  encrypt(values: Float64Array, scale: number): CipherHandle {
    if (values.length > this.slotCount) throw new RuntimeError(`encrypt: ${values.length} values > ${this.slotCount} slots`);
    this.#checkScale(this.maxLevel, scale, 'encrypt');
    const data = new Float64Array(this.slotCount);
    data.set(values);
    const c = new SimCipher(data, this.maxLevel, scale);
    this.#noise(c, this.#encryptStd);
    return c;
  }

  decrypt(ct: CipherHandle): Float64Array {
    return Float64Array.from(this.#ct(ct, 'decrypt').data);
  }

  #same(a: SimCipher, b: SimCipher, what: string): void {
    if (a.level !== b.level) throw new RuntimeError(`${what}: levels ${a.level} and ${b.level} differ`);
    if (Math.abs(a.scale - b.scale) > 2.3e-16 * Math.max(a.scale, b.scale, 1)) {
      throw new RuntimeError(`${what}: scales ${a.scale} and ${b.scale} differ`);
    }
  }

  add(a: CipherHandle, b: CipherHandle): CipherHandle {
    const x = this.#ct(a, 'add');
    const y = this.#ct(b, 'add');
    this.#same(x, y, 'add');
    const d = new Float64Array(this.slotCount);
    for (let i = 0; i < d.length; i++) d[i] = x.data[i]! + y.data[i]!;
    return new SimCipher(d, x.level, x.scale);
  }

  addInPlace(a: CipherHandle, b: CipherHandle): void {
    const x = this.#ct(a, 'addInPlace');
    const y = this.#ct(b, 'addInPlace');
    this.#same(x, y, 'addInPlace');
    for (let i = 0; i < x.data.length; i++) x.data[i] = x.data[i]! + y.data[i]!;
  }

  sub(a: CipherHandle, b: CipherHandle): CipherHandle {
    const x = this.#ct(a, 'sub');
    const y = this.#ct(b, 'sub');
    this.#same(x, y, 'sub');
    const d = new Float64Array(this.slotCount);
    for (let i = 0; i < d.length; i++) d[i] = x.data[i]! - y.data[i]!;
    return new SimCipher(d, x.level, x.scale);
  }

  negate(a: CipherHandle): CipherHandle {
    const x = this.#ct(a, 'negate');
    return new SimCipher(
      Float64Array.from(x.data, (v) => -v),
      x.level,
      x.scale,
    );
  }

  addPlain(a: CipherHandle, p: PlainHandle): CipherHandle {
    const x = this.#ct(a, 'addPlain');
    const q = this.#pt(p, 'addPlain');
    if (q.level !== x.level) throw new RuntimeError(`addPlain: plaintext level ${q.level} ≠ ciphertext level ${x.level}`);
    if (Math.abs(q.scale - x.scale) > 2.3e-16 * Math.max(q.scale, x.scale)) {
      throw new RuntimeError(`addPlain: plaintext scale ${q.scale} ≠ ciphertext scale ${x.scale}`);
    }
    let d: Float64Array;
    if (q.nonZero) {
      d = Float64Array.from(x.data);
      for (const i of q.nonZero) d[i] = d[i]! + q.data[i]!;
    } else {
      d = new Float64Array(this.slotCount);
      for (let i = 0; i < d.length; i++) d[i] = x.data[i]! + q.data[i]!;
    }
    return new SimCipher(d, x.level, x.scale);
  }

  mulPlain(a: CipherHandle, p: PlainHandle): CipherHandle {
    const x = this.#ct(a, 'mulPlain');
    const q = this.#pt(p, 'mulPlain');
    if (q.level !== x.level) throw new RuntimeError(`mulPlain: plaintext level ${q.level} ≠ ciphertext level ${x.level}`);
    const scale = x.scale * q.scale;
    this.#checkScale(x.level, scale, 'mulPlain');
    const d = new Float64Array(this.slotCount);
    if (q.nonZero) for (const i of q.nonZero) d[i] = x.data[i]! * q.data[i]!;
    else for (let i = 0; i < d.length; i++) d[i] = x.data[i]! * q.data[i]!;
    const c = new SimCipher(d, x.level, scale);
    if (this.#gauss && !q.constant) {
      // plaintext encoding rounding (FFT-encoded vectors only), carried by the ciphertext's values
      let mag = 0;
      for (let i = 0; i < d.length; i++) mag = Math.max(mag, Math.abs(x.data[i]!));
      this.#noise(c, (this.#encodeStd / q.scale) * mag * scale);
    }
    return c;
  }

  mul(a: CipherHandle, b: CipherHandle): CipherHandle {
    const x = this.#ct(a, 'mul');
    const y = this.#ct(b, 'mul');
    if (x.level !== y.level) throw new RuntimeError(`mul: levels ${x.level} and ${y.level} differ`);
    const scale = x.scale * y.scale;
    this.#checkScale(x.level, scale, 'mul');
    const d = new Float64Array(this.slotCount);
    for (let i = 0; i < d.length; i++) d[i] = x.data[i]! * y.data[i]!;
    const c = new SimCipher(d, x.level, scale);
    // relinearisation: key-switching noise (≈ the rounding term with a large special prime) at the product's
    // scale Δ², so tiny relative to the values
    this.#noise(c, this.#rescaleStd);
    return c;
  }

  rescale(a: CipherHandle): CipherHandle {
    const x = this.#ct(a, 'rescale');
    if (x.level < 1) throw new RuntimeError('rescale: ciphertext is at level 0, no prime left to drop');
    const c = new SimCipher(Float64Array.from(x.data), x.level - 1, x.scale / this.primes[x.level]!);
    this.#noise(c, this.#rescaleStd);
    return c;
  }

  dropToLevel(a: CipherHandle, level: number): CipherHandle {
    const x = this.#ct(a, 'dropToLevel');
    if (!Number.isInteger(level) || level > x.level || level < 0) {
      throw new RuntimeError(`dropToLevel: cannot go from level ${x.level} to ${level}`);
    }
    return new SimCipher(Float64Array.from(x.data), level, x.scale);
  }

  rotate(a: CipherHandle, steps: number): CipherHandle {
    const x = this.#ct(a, 'rotate');
    if (!Number.isInteger(steps)) throw new RuntimeError(`rotate: steps ${steps} is not an integer`);
    const n = this.slotCount;
    const s = ((steps % n) + n) % n;
    const d = new Float64Array(n);
    d.set(x.data.subarray(s), 0);
    d.set(x.data.subarray(0, s), n - s);
    const c = new SimCipher(d, x.level, x.scale);
    this.#noise(c, this.#rescaleStd);
    return c;
  }

  setScale(a: CipherHandle, scale: number): void {
    const x = this.#ct(a, 'setScale');
    if (Math.abs(scale / x.scale - 1) > 1e-9) throw new RuntimeError(`setScale: ${scale} is not a rounding of ${x.scale}`);
    x.scale = scale;
  }

  free(h: CipherHandle | PlainHandle): void {
    if (h instanceof SimCipher || h instanceof SimPlain) {
      h.freed = true;
      (h as { data: Float64Array }).data = new Float64Array(0);
    }
  }

  dispose(): void {
    /* nothing to release */
  }
}
