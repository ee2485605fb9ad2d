/**
 * SEAL's binary serialization format (SEAL 4.1, as node-seal 6.0.3 writes it), parsed in JavaScript so that a
 * hostile byte string is rejected with a message before WASM sees it, and exact sizes can be predicted.
 *
 * Layout (all integers little-endian):
 * - SEALHeader, 16 bytes: u16 magic 0xA15E, u8 header size (16), u8 version major (4), u8 minor (1),
 *   u8 compression (0 none, 1 zlib, 2 zstd), u16 reserved (0), u64 size of the whole object in bytes.
 * - Ciphertext: header, parms_id (32 bytes), u8 is_ntt_form, u64 size (polynomials), u64 N, u64 number of primes,
 *   f64 scale, u64 correction factor (1), then a DynArray — header, u64 count, count × u64 — holding
 *   size × primes × N coefficients, each < its prime. Seeded form (size 2): the DynArray holds only the first
 *   polynomial and a UniformRandomGeneratorInfo follows (header, u8 PRNG type, 8 × u64 seed) from which SEAL
 *   regenerates the second.
 * - PublicKey: a Ciphertext at the key level. SecretKey: a Plaintext — header, parms_id, u64 coefficient count,
 *   f64 scale, DynArray.
 * - KSwitchKeys (RelinKeys, GaloisKeys): header, parms_id (key level), u64 dim1, then per entry u64 dim2 and dim2
 *   PublicKeys (each with its own header, uncompressed). RelinKeys: dim1 = 1. GaloisKeys: dim1 = N, entry
 *   (elt − 1)/2 holds the key of Galois element elt (or is empty). dim2 = number of data primes.
 * Nested objects are always written uncompressed; only the outer object may be compressed.
 */
import { inflateSync } from 'node:zlib';
import { CkksError } from '../errors.js';

/** What the parser needs to know about a parameter set (CkksContext implements it). */
export interface WireLayout {
  readonly polyModulusDegree: number;
  readonly maxLevel: number;
  /** Chain index of the key level (maxLevel + 1). */
  readonly keyLevel: number;
  /** Chain level of a parms id (hex of its 32 bytes), or undefined when it is not one of these parameters'. */
  levelOfParmsId(hex: string): number | undefined;
  /** Primes of the modulus at a chain level (level + 1 of them; all at keyLevel). */
  primesAtLevel(level: number): readonly bigint[];
}

export type Compression = 'none' | 'zlib' | 'zstd';
const COMPRESSION: readonly Compression[] = ['none', 'zlib', 'zstd'];

export const SEAL_HEADER_BYTES = 16;
const MAGIC = 0xa15e;
const VERSION = { major: 4, minor: 1 };
/** parms_id + is_ntt_form + size + N + primes + scale + correction factor. */
const CIPHERTEXT_METADATA_BYTES = 32 + 1 + 8 * 5;
const DYNARRAY_OVERHEAD = SEAL_HEADER_BYTES + 8;
/** UniformRandomGeneratorInfo: header, PRNG type, 512-bit seed. */
const SEED_INFO_BYTES = SEAL_HEADER_BYTES + 1 + 64;
/** SEAL_CIPHERTEXT_SIZE_MIN / MAX. */
const CIPHERTEXT_SIZE = { min: 2, max: 16 };

export interface SealHeader {
  compression: Compression;
  /** Total size of the object in bytes (header included). */
  size: number;
}

/** Bytes of a serialized (uncompressed) ciphertext with `primes` primes. */
export function ciphertextBytes(n: number, primes: number, options: { seeded?: boolean; size?: number } = {}): number {
  const polys = options.seeded ? 1 : (options.size ?? 2);
  return (
    SEAL_HEADER_BYTES + CIPHERTEXT_METADATA_BYTES + DYNARRAY_OVERHEAD + 8 * polys * n * primes + (options.seeded ? SEED_INFO_BYTES : 0)
  );
}

/** Bytes of serialized (uncompressed) key-switching keys: `entries` keys out of `dim1` slots. */
export function kswitchKeysBytes(n: number, keyPrimes: number, entries: number, dim1: number, seeded: boolean): number {
  const dataPrimes = keyPrimes - 1;
  return SEAL_HEADER_BYTES + 32 + 8 + 8 * dim1 + entries * dataPrimes * ciphertextBytes(n, keyPrimes, { seeded });
}

/** Bytes of a serialized secret key. */
export function secretKeyBytes(n: number, keyPrimes: number): number {
  return SEAL_HEADER_BYTES + 32 + 8 + 8 + DYNARRAY_OVERHEAD + 8 * n * keyPrimes;
}

/** Validate the outer header of a serialized object: magic, version, compression mode, size field = byte length. */
export function readSealHeader(bytes: Uint8Array, what: string): SealHeader {
  if (!(bytes instanceof Uint8Array)) throw new CkksError(`${what}: expected a Uint8Array of SEAL-serialized bytes`);
  if (bytes.length < SEAL_HEADER_BYTES) {
    throw new CkksError(`${what}: ${bytes.length} bytes is shorter than SEAL's ${SEAL_HEADER_BYTES}-byte header`);
  }
  const h = parseHeader(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), 0, what);
  if (h.size !== bytes.length) {
    throw new CkksError(`${what}: header says ${h.size} bytes but ${bytes.length} were given (truncated or padded)`);
  }
  return h;
}

function parseHeader(view: DataView, at: number, what: string): SealHeader {
  const magic = view.getUint16(at, true);
  if (magic !== MAGIC) {
    throw new CkksError(`${what}: not SEAL data (magic 0x${magic.toString(16).padStart(4, '0')} at byte ${at}, expected 0xa15e)`);
  }
  const headerSize = view.getUint8(at + 2);
  if (headerSize !== SEAL_HEADER_BYTES) throw new CkksError(`${what}: SEAL header size ${headerSize}, expected ${SEAL_HEADER_BYTES}`);
  const major = view.getUint8(at + 3);
  const minor = view.getUint8(at + 4);
  if (major !== VERSION.major || minor !== VERSION.minor) {
    throw new CkksError(`${what}: written by SEAL ${major}.${minor}, this build reads SEAL ${VERSION.major}.${VERSION.minor}`);
  }
  const mode = view.getUint8(at + 5);
  const compression = COMPRESSION[mode];
  if (compression === undefined) throw new CkksError(`${what}: unknown compression mode ${mode}`);
  if (view.getUint16(at + 6, true) !== 0) throw new CkksError(`${what}: SEAL header reserved field is not zero`);
  const size = view.getBigUint64(at + 8, true);
  if (size > BigInt(Number.MAX_SAFE_INTEGER)) throw new CkksError(`${what}: header size field ${size} is absurd`);
  return { compression, size: Number(size) };
}

/**
 * The object as SEAL should load it: uncompressed bytes are returned as they are; zlib data is inflated here with
 * its output bounded by `maxBytes` and re-headered as uncompressed (so SEAL never inflates untrusted data); zstd
 * is refused (Node 20 has no zstd to bound it with, and SEAL's own inflation is unbounded).
 */
export function decompress(bytes: Uint8Array, header: SealHeader, maxBytes: number, what: string): Uint8Array {
  if (header.compression === 'none') return bytes;
  if (header.compression === 'zstd') {
    throw new CkksError(
      `${what}: zstd-compressed data is not accepted (its size cannot be bounded before SEAL inflates it); send it uncompressed or zlib-compressed`,
    );
  }
  let body: Buffer;
  try {
    body = inflateSync(bytes.subarray(SEAL_HEADER_BYTES), { maxOutputLength: Math.max(1, maxBytes - SEAL_HEADER_BYTES) });
  } catch (err) {
    const tooBig = err instanceof RangeError || (err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE';
    throw new CkksError(
      tooBig ? `${what}: zlib data inflates to more than the ${maxBytes} bytes such an object can have` : `${what}: zlib data is corrupt`,
      { cause: err },
    );
  }
  const out = new Uint8Array(SEAL_HEADER_BYTES + body.length);
  out.set(bytes.subarray(0, SEAL_HEADER_BYTES));
  const view = new DataView(out.buffer);
  view.setUint8(5, 0);
  view.setBigUint64(8, BigInt(out.length), true);
  out.set(body, SEAL_HEADER_BYTES);
  return out;
}

/** Bounds-checked little-endian reader over one serialized object. */
class Reader {
  pos = 0;
  readonly view: DataView;
  constructor(
    readonly bytes: Uint8Array,
    readonly what: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  need(n: number, field: string): number {
    if (n > this.bytes.length - this.pos) {
      throw new CkksError(`${this.what}: truncated: ${field} at byte ${this.pos} needs ${n} bytes, ${this.bytes.length - this.pos} left`);
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }
  u8(field: string): number {
    return this.view.getUint8(this.need(1, field));
  }
  u64(field: string): number {
    const v = this.view.getBigUint64(this.need(8, field), true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new CkksError(`${this.what}: ${field} = ${v} is absurd`);
    return Number(v);
  }
  f64(field: string): number {
    return this.view.getFloat64(this.need(8, field), true);
  }
  hex(n: number, field: string): string {
    const at = this.need(n, field);
    let s = '';
    for (let i = at; i < at + n; i++) s += this.bytes[i]!.toString(16).padStart(2, '0');
    return s;
  }
  /** A nested SEAL header (always uncompressed); returns the offset where the nested object ends. */
  nested(field: string): number {
    const at = this.need(SEAL_HEADER_BYTES, `${field} header`);
    const h = parseHeader(this.view, at, `${this.what}: ${field}`);
    if (h.compression !== 'none') throw new CkksError(`${this.what}: ${field} is compressed inside another object`);
    if (h.size < SEAL_HEADER_BYTES || h.size > this.bytes.length - at) {
      throw new CkksError(`${this.what}: ${field} claims ${h.size} bytes, only ${this.bytes.length - at} remain`);
    }
    return at + h.size;
  }
  endOf(end: number, field: string): void {
    if (this.pos !== end) throw new CkksError(`${this.what}: ${field} size field disagrees with its content (${end - this.pos} bytes off)`);
  }
}

/** What a serialized ciphertext (or public key) holds. */
export interface CiphertextInfo {
  level: number;
  size: number;
  scale: number;
  seeded: boolean;
}

/** Parse one ciphertext (header included) at the reader's position; `keyLevel` for the ciphertexts inside keys. */
function readCiphertext(r: Reader, layout: WireLayout, field: string, keyLevel: boolean): CiphertextInfo {
  const end = r.nested(field);
  const level = readParmsLevel(r, layout, field);
  if (keyLevel && level !== layout.keyLevel) throw new CkksError(`${r.what}: ${field} is not at the key level`);
  if (!keyLevel && level > layout.maxLevel) throw new CkksError(`${r.what}: ${field} is at the key level, not a data level`);
  const ntt = r.u8(`${field} NTT flag`);
  if (ntt !== 1) throw new CkksError(`${r.what}: ${field} is not in NTT form (flag ${ntt}); CKKS ciphertexts always are`);
  const size = r.u64(`${field} size`);
  if (size < CIPHERTEXT_SIZE.min || size > CIPHERTEXT_SIZE.max || (keyLevel && size !== 2)) {
    throw new CkksError(
      `${r.what}: ${field} has ${size} polynomials (SEAL allows ${CIPHERTEXT_SIZE.min}…${CIPHERTEXT_SIZE.max}${keyLevel ? '; keys have 2' : ''})`,
    );
  }
  const n = r.u64(`${field} N`);
  if (n !== layout.polyModulusDegree)
    throw new CkksError(`${r.what}: ${field} has N=${n}, these parameters have N=${layout.polyModulusDegree}`);
  const primes = layout.primesAtLevel(level);
  const k = r.u64(`${field} prime count`);
  if (k !== primes.length) throw new CkksError(`${r.what}: ${field} has ${k} primes, its level has ${primes.length}`);
  const scale = r.f64(`${field} scale`);
  if (!(scale > 0 && Number.isFinite(scale))) throw new CkksError(`${r.what}: ${field} scale ${scale} is not a positive finite number`);
  const correction = r.u64(`${field} correction factor`);
  if (correction !== 1) throw new CkksError(`${r.what}: ${field} correction factor ${correction} (CKKS uses 1)`);
  const count = readCoefficients(r, n, primes, `${field} data`, [size * n * k, ...(size === 2 ? [n * k] : [])]);
  const seeded = count === n * k;
  if (seeded) {
    const seedEnd = r.nested(`${field} seed`);
    const prng = r.u8(`${field} PRNG type`);
    if (prng !== 1 && prng !== 2) throw new CkksError(`${r.what}: ${field} PRNG type ${prng} is unknown (1 blake2xb, 2 shake256)`);
    r.need(64, `${field} seed`);
    r.endOf(seedEnd, `${field} seed`);
  }
  r.endOf(end, field);
  return { level, size, scale, seeded };
}

function readParmsLevel(r: Reader, layout: WireLayout, field: string): number {
  const hex = r.hex(32, `${field} parms id`);
  const level = layout.levelOfParmsId(hex);
  if (level === undefined) {
    throw new CkksError(
      `${r.what}: made under other encryption parameters (${field} parms id ${hex.slice(0, 16)}… is not in this modulus chain)`,
    );
  }
  return level;
}

/**
 * A DynArray of u64 coefficients whose count must be one of `counts`; checks every coefficient is below its prime
 * (SEAL's is_data_valid_for; coefficient j belongs to prime ⌊j / N⌋ mod k). Returns the count.
 */
function readCoefficients(r: Reader, n: number, primes: readonly bigint[], field: string, counts: number[]): number {
  const end = r.nested(field);
  const count = r.u64(`${field} count`);
  if (!counts.includes(count)) throw new CkksError(`${r.what}: ${field} holds ${count} coefficients, expected ${counts.join(' or ')}`);
  const at = r.need(8 * count, field);
  r.endOf(end, field);
  const k = primes.length;
  const hi = primes.map((q) => Number(q >> 32n));
  const lo = primes.map((q) => Number(q & 0xffffffffn));
  const view = r.view;
  for (let block = 0; block < count / n; block++) {
    const p = block % k;
    const qHi = hi[p]!;
    const qLo = lo[p]!;
    const base = at + 8 * n * block;
    for (let j = 0; j < n; j++) {
      const off = base + 8 * j;
      const vHi = view.getUint32(off + 4, true);
      if (vHi > qHi || (vHi === qHi && view.getUint32(off, true) >= qLo)) {
        throw new CkksError(`${r.what}: ${field} coefficient ${block * n + j} is not reduced modulo its prime`);
      }
    }
  }
  return count;
}

/** Validate a serialized ciphertext (any compression handled by `decompress` first) and say what it holds. */
export function inspectCiphertext(bytes: Uint8Array, layout: WireLayout, what = 'ciphertext'): CiphertextInfo {
  const r = new Reader(bytes, what);
  const info = readCiphertext(r, layout, 'ciphertext', false);
  if (r.pos !== bytes.length) throw new CkksError(`${what}: ${bytes.length - r.pos} trailing bytes after the ciphertext`);
  return info;
}

/** What serialized key-switching keys hold. */
export interface KSwitchKeysInfo {
  /** Galois elements with a key (for relinearisation keys: [] ). */
  galoisElements: number[];
  seeded: boolean;
}

/** Validate serialized relinearisation or Galois keys (uncompressed) for these parameters. */
export function inspectKSwitchKeys(bytes: Uint8Array, layout: WireLayout, kind: 'relin' | 'galois', what: string): KSwitchKeysInfo {
  const r = new Reader(bytes, what);
  const end = r.nested('keys');
  const level = readParmsLevel(r, layout, 'keys');
  if (level !== layout.keyLevel) throw new CkksError(`${what}: keys are not at the key level of these parameters`);
  const dim1 = r.u64('key count');
  const expectedDim1 = kind === 'relin' ? 1 : layout.polyModulusDegree;
  if (dim1 !== expectedDim1) throw new CkksError(`${what}: ${dim1} key slots, ${kind} keys have ${expectedDim1}`);
  const decomposition = layout.maxLevel + 1;
  const galoisElements: number[] = [];
  let seededAll = true;
  for (let i = 0; i < dim1; i++) {
    const dim2 = r.u64(`key ${i} length`);
    if (dim2 === 0 && kind === 'galois') continue;
    if (dim2 !== decomposition) throw new CkksError(`${what}: key ${i} has ${dim2} parts, these parameters need ${decomposition}`);
    for (let j = 0; j < dim2; j++) {
      const info = readCiphertext(r, layout, `key ${i} part ${j}`, true);
      seededAll &&= info.seeded;
    }
    if (kind === 'galois') galoisElements.push(2 * i + 1);
  }
  r.endOf(end, 'keys');
  if (r.pos !== bytes.length) throw new CkksError(`${what}: ${bytes.length - r.pos} trailing bytes after the keys`);
  return { galoisElements, seeded: seededAll };
}

/** Validate a serialized secret key for these parameters. */
export function inspectSecretKey(bytes: Uint8Array, layout: WireLayout, what = 'secret key'): void {
  const r = new Reader(bytes, what);
  const end = r.nested('secret key');
  const level = readParmsLevel(r, layout, 'secret key');
  if (level !== layout.keyLevel) throw new CkksError(`${what}: not at the key level of these parameters`);
  const primes = layout.primesAtLevel(level);
  const n = layout.polyModulusDegree;
  const count = r.u64('coefficient count');
  if (count !== n * primes.length) throw new CkksError(`${what}: ${count} coefficients, expected ${n * primes.length}`);
  const scale = r.f64('scale');
  if (!Number.isFinite(scale)) throw new CkksError(`${what}: scale ${scale} is not finite`);
  readCoefficients(r, n, primes, 'secret key data', [count]);
  r.endOf(end, 'secret key');
  if (r.pos !== bytes.length) throw new CkksError(`${what}: ${bytes.length - r.pos} trailing bytes`);
}
