/**
 * Ciphertexts: an owning wrapper around SEAL's Ciphertext that knows its level and scale without asking WASM,
 * and saving/loading with every byte validated in JS (src/ckks/wire-format.ts) before SEAL reads it.
 */
import { CkksError } from '../errors.js';
import type { CkksContext } from './context.js';
import { ciphertextBytes, decompress, inspectCiphertext, readSealHeader, type CiphertextInfo } from './wire-format.js';
import { callSeal, freeSeal, type SealLibrary } from './wasm.js';

/** @internal node-seal's ciphertext type (only src/ckks handles it). */
export type SealCipherText = ReturnType<SealLibrary['CipherText']>;

export class Ciphertext {
  readonly context: CkksContext;
  #ct: SealCipherText | null;
  #level: number;
  #scale: number;

  /** @internal Takes ownership of `ct`, whose level and scale the caller knows. */
  constructor(context: CkksContext, ct: SealCipherText, level: number, scale: number) {
    this.context = context;
    this.#ct = ct;
    this.#level = level;
    this.#scale = scale;
  }

  /** Data level: number of rescales still available. */
  get level(): number {
    return this.#level;
  }

  /** The scale SEAL stores (a double). */
  get scale(): number {
    return this.#scale;
  }

  get freed(): boolean {
    return this.#ct === null;
  }

  /** @internal The SEAL object; throws if freed. */
  sealObject(what: string): SealCipherText {
    if (!this.#ct) throw new CkksError(`${what}: ciphertext was freed`);
    return this.#ct;
  }

  /** @internal Relabel the scale (SEAL's setScale). */
  relabelScale(scale: number): void {
    const ct = this.sealObject('setScale');
    callSeal('setScale', () => ct.setScale(scale));
    this.#scale = scale;
  }

  /** Delete the SEAL object (idempotent). */
  free(): void {
    const ct = this.#ct;
    this.#ct = null;
    freeSeal(ct, 'free ciphertext');
  }
}

/** What a loaded ciphertext must be; each given field is checked with a message naming it. */
export interface CiphertextExpectation {
  /** Required level. @default any data level */
  level?: number;
  /** Required scale, compared exactly (serialization preserves the double). @default any */
  scale?: number;
  /** Required number of polynomials (2 = relinearised). @default 2 */
  size?: number;
}

export interface SaveOptions {
  /** SEAL compression of the outer object ('zlib' saves 10–25 % and costs time; zstd is not accepted on load). @default 'none' */
  compression?: 'none' | 'zlib';
}

/** @internal SEAL's compression enum value for a SaveOptions mode. */
export function comprMode(context: CkksContext, options: SaveOptions, what: string): SealLibrary['ComprModeType'] {
  const mode = options.compression ?? 'none';
  if (mode !== 'none' && mode !== 'zlib') throw new CkksError(`${what}: compression must be 'none' or 'zlib', got ${String(mode)}`);
  return context.seal.ComprModeType[mode] as SealLibrary['ComprModeType'];
}

/** Serialize a ciphertext in SEAL's format. */
export function saveCiphertext(ct: Ciphertext, options: SaveOptions = {}): Uint8Array {
  const what = 'saveCiphertext';
  ct.context.assertLive(what);
  const sealCt = ct.sealObject(what);
  const mode = comprMode(ct.context, options, what);
  return callSeal(what, () => sealCt.saveArray(mode));
}

function checkExpectation(info: Pick<CiphertextInfo, 'level' | 'scale' | 'size'>, expect: CiphertextExpectation, what: string): void {
  const size = expect.size ?? 2;
  if (info.size !== size) {
    throw new CkksError(`${what}: has ${info.size} polynomials, expected ${size}${size === 2 ? ' (a relinearised ciphertext)' : ''}`);
  }
  if (expect.level !== undefined && info.level !== expect.level) {
    throw new CkksError(`${what}: is at level ${info.level}, expected level ${expect.level}`);
  }
  if (expect.scale !== undefined && info.scale !== expect.scale) {
    throw new CkksError(
      `${what}: has scale ${info.scale} (2^${Math.log2(info.scale).toFixed(4)}), expected ${expect.scale} (2^${Math.log2(expect.scale).toFixed(4)})`,
    );
  }
}

/** Check an in-memory ciphertext against expectations (size is always 2 for pann's ciphertexts). */
export function checkCiphertext(ct: Ciphertext, expect: CiphertextExpectation, what = 'ciphertext'): void {
  ct.sealObject(what);
  checkExpectation({ level: ct.level, scale: ct.scale, size: 2 }, expect, what);
}

/**
 * Load a serialized ciphertext under `context`. The bytes are validated in JS first (header, parameters, sizes,
 * every coefficient reduced) and checked against `expect`, so hostile input is rejected with a CkksError and
 * never reaches WASM; SEAL then loads the validated bytes (expanding the seed of a seeded ciphertext).
 */
export function loadCiphertext(context: CkksContext, bytes: Uint8Array, expect: CiphertextExpectation = {}): Ciphertext {
  const what = 'ciphertext';
  context.assertLive(what);
  const header = readSealHeader(bytes, what);
  const bound = ciphertextBytes(context.polyModulusDegree, context.maxLevel + 1, { size: expect.size ?? 2 });
  const plain = decompress(bytes, header, bound, what);
  const info = inspectCiphertext(plain, context, what);
  checkExpectation(info, expect, what);
  context.checkScale(info.level, info.scale, what);
  const seal = context.seal;
  const ct = callSeal(what, () => seal.CipherText({ pool: context.pool }));
  try {
    callSeal(what, () => ct.loadArray(context.sealContext, plain));
    const scale = callSeal(what, () => ct.scale);
    if (scale !== info.scale) throw new CkksError(`${what}: SEAL read scale ${scale}, the bytes say ${info.scale}`);
    return new Ciphertext(context, ct, info.level, info.scale);
  } catch (err) {
    freeSeal(ct, what);
    throw err;
  }
}
