/**
 * Encoded plaintexts: a vector of up to N/2 reals encoded at a level and scale (CKKS canonical embedding, SEAL's
 * CKKSEncoder), owned by a wrapper that frees the SEAL object.
 */
import { CkksError } from '../errors.js';
import type { CkksContext } from './context.js';
import { callSeal, freeSeal, type SealLibrary } from './wasm.js';

type SealPlainText = ReturnType<SealLibrary['PlainText']>;

export class Plaintext {
  readonly context: CkksContext;
  readonly level: number;
  readonly scale: number;
  /** True when every coefficient rounded to 0: multiplying by it would give a transparent ciphertext. */
  readonly isZero: boolean;
  #pt: SealPlainText | null;

  /** @internal Takes ownership of `pt`. */
  constructor(context: CkksContext, pt: SealPlainText, level: number, scale: number, isZero: boolean) {
    this.context = context;
    this.#pt = pt;
    this.level = level;
    this.scale = scale;
    this.isZero = isZero;
  }

  get freed(): boolean {
    return this.#pt === null;
  }

  /** @internal The SEAL object; throws if freed. */
  sealObject(what: string): SealPlainText {
    if (!this.#pt) throw new CkksError(`${what}: plaintext was freed`);
    return this.#pt;
  }

  /** Delete the SEAL object (idempotent). */
  free(): void {
    const pt = this.#pt;
    this.#pt = null;
    freeSeal(pt, 'free plaintext');
  }
}

/** Throw unless `values` is a Float64Array of at most slotCount finite numbers; returns max |value|. */
export function checkSlotValues(context: CkksContext, values: Float64Array, what: string): number {
  if (!(values instanceof Float64Array)) throw new CkksError(`${what}: values must be a Float64Array`);
  if (values.length > context.slotCount) {
    throw new CkksError(`${what}: ${values.length} values do not fit in ${context.slotCount} slots`);
  }
  let max = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) throw new CkksError(`${what}: value ${i} is ${v}, not a finite number`);
    max = Math.max(max, Math.abs(v));
  }
  return max;
}

/**
 * Throw unless values of magnitude ≤ `maxAbs` at `scale` fit the modulus at `level` without wrapping
 * (|coefficient| ≤ max|value|·scale for the canonical embedding; it must stay below q/2).
 */
export function checkMagnitude(context: CkksContext, maxAbs: number, level: number, scale: number, what: string): void {
  if (maxAbs === 0) return;
  const need = Math.log2(maxAbs) + Math.log2(scale);
  const room = context.params.log2Modulus(level) - 1;
  if (need >= room) {
    throw new CkksError(
      `${what}: values up to ${maxAbs.toPrecision(4)} at scale 2^${Math.log2(scale).toFixed(2)} need ${need.toFixed(1)} bits, level ${level} holds ${room.toFixed(1)}`,
    );
  }
}

/** Encode `values` (zero-padded to N/2 slots) at `level` with `scale`. */
export function encodePlaintext(context: CkksContext, values: Float64Array, level: number, scale: number): Plaintext {
  const what = 'encode';
  context.assertLive(what);
  if (!Number.isInteger(level) || level < 0 || level > context.maxLevel) {
    throw new CkksError(`${what}: level ${level} is outside 0…${context.maxLevel}`);
  }
  const maxAbs = checkSlotValues(context, values, what);
  context.checkScale(level, scale, what);
  checkMagnitude(context, maxAbs, level, scale, what);
  const seal = context.seal;
  const pt = callSeal(what, () => seal.PlainText({ pool: context.pool }));
  try {
    callSeal(what, () => context.encoder.encode(values, scale, pt, context.pool));
    if (level < context.maxLevel) callSeal(what, () => context.evaluator.plainModSwitchTo(pt, context.parmsIdAt(level), pt));
    const isZero = callSeal(what, () => pt.isZero);
    return new Plaintext(context, pt, level, scale, isZero);
  } catch (err) {
    freeSeal(pt, what);
    throw err;
  }
}

/**
 * An encoded plaintext as bytes outside SEAL's heap (its wire format, uncompressed), for loadPlaintext: loading a
 * 2.6 MB plaintext at N = 32768 takes about 1.1 ms against 17.6 ms to encode it again, so a circuit whose
 * plaintexts do not fit the 4 GB heap keeps the rest here.
 */
export interface SavedPlaintext {
  readonly data: Uint8Array;
  readonly level: number;
  readonly scale: number;
  readonly isZero: boolean;
}

export function savePlaintext(pt: Plaintext): SavedPlaintext {
  const what = 'save plaintext';
  pt.context.assertLive(what);
  const seal = pt.context.seal;
  const data = callSeal(what, () => pt.sealObject(what).saveArray(seal.ComprModeType.none));
  return { data, level: pt.level, scale: pt.scale, isZero: pt.isZero };
}

/**
 * A plaintext from savePlaintext's bytes (made by this process, from the same context: SEAL checks them against the
 * context's parameters; its parms id carries the level).
 */
export function loadPlaintext(context: CkksContext, saved: SavedPlaintext): Plaintext {
  const what = 'load plaintext';
  context.assertLive(what);
  const seal = context.seal;
  const pt = callSeal(what, () => seal.PlainText({ pool: context.pool }));
  try {
    callSeal(what, () => pt.loadArray(context.sealContext, saved.data));
    return new Plaintext(context, pt, saved.level, saved.scale, saved.isZero);
  } catch (err) {
    freeSeal(pt, what);
    throw err;
  }
}

/**
 * A constant in every slot, built directly in SEAL's wire format and loaded (no FFT): in NTT form a constant
 * polynomial round(value·scale) is that integer, reduced modulo each prime, at every evaluation point — exactly
 * what SEAL's `CKKSEncoder::encode(double)` produces (node-seal only exposes the vector encoder, which costs a
 * full inverse FFT and, below the top level, a modulus switch). ~6× faster than encodePlaintext.
 */
export function encodeConstant(context: CkksContext, value: number, level: number, scale: number): Plaintext {
  const what = 'encode constant';
  context.assertLive(what);
  if (!Number.isInteger(level) || level < 0 || level > context.maxLevel) {
    throw new CkksError(`${what}: level ${level} is outside 0…${context.maxLevel}`);
  }
  if (!Number.isFinite(value)) throw new CkksError(`${what}: value ${value} is not a finite number`);
  context.checkScale(level, scale, what);
  checkMagnitude(context, Math.abs(value), level, scale, what);
  // as SEAL's encode(double): round(value·scale) in double precision (any double above 2^53 is an integer)
  const scaled = Math.round(value * scale);
  const primes = context.primesAtLevel(level);
  const n = context.polyModulusDegree;
  const count = n * primes.length;
  const HEADER = 16;
  const dynBytes = HEADER + 8 + 8 * count;
  const total = HEADER + 32 + 8 + 8 + dynBytes;
  const buf = new ArrayBuffer(total);
  const dv = new DataView(buf);
  const header = (off: number, size: number) => {
    dv.setUint16(off, 0xa15e, true); // magic
    dv.setUint8(off + 2, HEADER); // header size
    dv.setUint8(off + 3, 4); // SEAL 4.1
    dv.setUint8(off + 4, 1);
    dv.setUint8(off + 5, 0); // no compression
    dv.setUint16(off + 6, 0, true);
    dv.setBigUint64(off + 8, BigInt(size), true);
  };
  header(0, total);
  const id = context.parmsIdAt(level).values;
  for (let i = 0; i < 4; i++) dv.setBigUint64(HEADER + 8 * i, id[i]!, true);
  dv.setBigUint64(HEADER + 32, BigInt(count), true);
  dv.setFloat64(HEADER + 40, scale, true);
  header(HEADER + 48, dynBytes);
  dv.setBigUint64(HEADER + 64, BigInt(count), true);
  const data = new BigUint64Array(buf, HEADER + 72, count);
  const c = BigInt(scaled);
  if (c >= 1n << 120n || c <= -(1n << 120n))
    throw new CkksError(`${what}: ${value} at scale 2^${Math.log2(scale).toFixed(1)} is too large`);
  primes.forEach((q, p) => data.fill(((c % q) + q) % q, p * n, (p + 1) * n));
  const seal = context.seal;
  const pt = callSeal(what, () => seal.PlainText({ pool: context.pool }));
  try {
    callSeal(what, () => pt.loadArray(context.sealContext, new Uint8Array(buf)));
    return new Plaintext(context, pt, level, scale, scaled === 0);
  } catch (err) {
    freeSeal(pt, what);
    throw err;
  }
}
