import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deflateSync } from 'node:zlib';
import { CkksError } from '../../src/errors.js';
import { checkCiphertext, loadCiphertext, saveCiphertext } from '../../src/ckks/ciphertext.js';
import { CkksContext } from '../../src/ckks/context.js';
import { CkksEvaluator } from '../../src/ckks/evaluator.js';
import { encodePlaintext } from '../../src/ckks/plaintext.js';
import { ciphertextBytes } from '../../src/ckks/wire-format.js';
import { wasmStatus } from '../../src/ckks/wasm.js';
import { fixture, maxAbsDiff, randomValues, SCALE, type Fixture } from './helpers.js';

let f: Fixture;
let other: Fixture; // same N, other primes
let full: Uint8Array; // a public-key ciphertext at level 2
let seeded: Uint8Array; // a seeded symmetric ciphertext at level 2
const x = randomValues(4096, 7);

beforeAll(async () => {
  f = await fixture();
  other = await fixture([], { polyModulusDegree: 8192, coeffModulusBits: [50, 30, 30, 50] });
  const ct = f.enc.encrypt(x, SCALE);
  full = saveCiphertext(ct);
  ct.free();
  seeded = f.enc.encryptSerialized(x, SCALE);
});

afterAll(() => {
  f.dispose();
  other.dispose();
});

describe('encryption round trip', () => {
  it('public-key and symmetric encryption decrypt within 1e-6 at scale 2^40', () => {
    for (const ct of [f.enc.encrypt(x, SCALE), f.enc.encryptSymmetric(x, SCALE)]) {
      const d = f.enc.decrypt(ct);
      expect(d).toHaveLength(4096);
      expect(maxAbsDiff(d, x)).toBeLessThan(1e-6);
      expect(maxAbsDiff(d, x)).toBeGreaterThan(0); // CKKS is approximate: an exact answer would mean no encryption
      expect([ct.level, ct.scale]).toEqual([2, SCALE]);
      ct.free();
    }
  });

  it('zero-pads short vectors', () => {
    const ct = f.enc.encrypt(Float64Array.from([0.5, -0.25]), SCALE);
    const d = f.enc.decrypt(ct);
    expect(d[0]).toBeCloseTo(0.5, 6);
    expect(d[1]).toBeCloseTo(-0.25, 6);
    expect(maxAbsDiff(d.subarray(2), new Float64Array(4094))).toBeLessThan(1e-6);
    ct.free();
  });

  it('rejects bad input before SEAL sees it', () => {
    expect(() => f.enc.encrypt(new Float64Array(4097), SCALE)).toThrow('encode: 4097 values do not fit in 4096 slots');
    expect(() => f.enc.encrypt(Float64Array.from([1, NaN]), SCALE)).toThrow('encode: value 1 is NaN');
    expect(() => f.enc.encrypt([1, 2] as never, SCALE)).toThrow('encode: values must be a Float64Array');
    expect(() => f.enc.encrypt(x, 2 ** 140)).toThrow(/scale 2\^140.00 is out of bounds at level 2 \(SEAL needs log2\(scale\) < 140\)/);
    expect(() => f.enc.encrypt(x, -1)).toThrow(/scale -1 is out of bounds/);
    expect(() => f.enc.encrypt(Float64Array.from([2 ** 100]), SCALE)).toThrow(
      /values up to 1.268e\+30 at scale 2\^40.00 need 140.0 bits, level 2 holds 139.0/,
    );
    expect(() => encodePlaintext(f.ctx, x, 3, SCALE)).toThrow('encode: level 3 is outside 0…2');
    expect(() => encodePlaintext(f.ctx, Float64Array.from([2 ** 30]), 0, SCALE)).toThrow(/level 0 holds 59.0/);
    expect(wasmStatus().faults).toBe(0);
  });
});

describe('serialized ciphertexts', () => {
  it('have the predicted sizes; the seeded symmetric form is about half', () => {
    expect(full.length).toBe(ciphertextBytes(8192, 3));
    expect(full.length).toBe(393329);
    expect(seeded.length).toBe(ciphertextBytes(8192, 3, { seeded: true }));
    expect(seeded.length / full.length).toBeCloseTo(0.5, 2);
  });

  it('load back (seeded ones are expanded by SEAL) and decrypt', () => {
    for (const bytes of [full, seeded]) {
      const ct = loadCiphertext(f.ctx, bytes, { level: 2, scale: SCALE, size: 2 });
      expect(maxAbsDiff(f.enc.decrypt(ct), x)).toBeLessThan(1e-6);
      expect(saveCiphertext(ct).length).toBe(full.length);
      ct.free();
    }
  });

  it('load from a Node Buffer that views part of a larger ArrayBuffer (as an HTTP body does)', () => {
    const body = Buffer.concat([Buffer.alloc(7, 0xee), Buffer.from(seeded), Buffer.alloc(5)]).subarray(7, 7 + seeded.length);
    expect(body.byteOffset).toBeGreaterThan(0);
    const ct = loadCiphertext(f.ctx, body, { level: 2, scale: SCALE });
    expect(maxAbsDiff(f.enc.decrypt(ct), x)).toBeLessThan(1e-6);
    ct.free();
  });

  it('zlib compression round-trips and saves some bytes', () => {
    const ct = loadCiphertext(f.ctx, full);
    const z = saveCiphertext(ct, { compression: 'zlib' });
    expect(z.length).toBeLessThan(0.9 * full.length);
    const back = loadCiphertext(f.ctx, z, { level: 2 });
    expect(maxAbsDiff(f.enc.decrypt(back), x)).toBeLessThan(1e-6);
    expect(() => saveCiphertext(ct, { compression: 'zstd' as never })).toThrow(/compression must be 'none' or 'zlib'/);
    ct.free();
    back.free();
  });

  it('check expectations on level, scale and size with clear messages', () => {
    expect(() => loadCiphertext(f.ctx, full, { level: 1 })).toThrow('ciphertext: is at level 2, expected level 1');
    expect(() => loadCiphertext(f.ctx, full, { scale: 2 ** 30 })).toThrow(
      /has scale 1099511627776 \(2\^40.0000\), expected 1073741824 \(2\^30.0000\)/,
    );
    expect(() => loadCiphertext(f.ctx, full, { size: 3 })).toThrow('ciphertext: has 2 polynomials, expected 3');
    const ev = new CkksEvaluator(f.ctx);
    const ct = loadCiphertext(f.ctx, full);
    const low = ev.dropToLevel(ct, 0);
    const lowBytes = saveCiphertext(low);
    expect(lowBytes.length).toBe(ciphertextBytes(8192, 1));
    expect(() => loadCiphertext(f.ctx, lowBytes, { level: 2 })).toThrow('ciphertext: is at level 0, expected level 2');
    expect(() => checkCiphertext(low, { level: 2 })).toThrow('ciphertext: is at level 0, expected level 2');
    expect(() => checkCiphertext(low, { level: 0, scale: SCALE })).not.toThrow();
    ct.free();
    low.free();
    expect(() => checkCiphertext(low, {})).toThrow('ciphertext: ciphertext was freed');
  });
});

/** Overwrite bytes at `at` with `patch` in a copy. */
function patched(bytes: Uint8Array, at: number, patch: number[]): Uint8Array {
  const out = Uint8Array.from(bytes);
  out.set(patch, at);
  return out;
}

function u64(v: bigint): number[] {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, v, true);
  return [...b];
}

describe('hostile bytes never reach WASM', () => {
  // offsets in a serialized ciphertext: header 0–15, parms id 16–47, NTT flag 48, size 49, N 57, primes 65,
  // scale 73, correction factor 81, data header 89, count 105, coefficients from 113
  const cases: [string, () => Uint8Array, RegExp][] = [
    ['empty', () => new Uint8Array(0), /shorter than SEAL's 16-byte header/],
    ['random bytes', () => randomBytes(full.length, 1), /not SEAL data \(magic/],
    [
      'random bytes after a valid header',
      () => patched(randomBytes(full.length, 2), 0, [...full.subarray(0, 16)]),
      /made under other encryption parameters/,
    ],
    ['truncated', () => full.subarray(0, 200000), /header says 393329 bytes but 200000 were given/],
    [
      'truncated, size field patched to match',
      () => patched(full.subarray(0, 200000), 8, u64(200000n)),
      /ciphertext data claims 393240 bytes, only 199911 remain/,
    ],
    ['padded', () => Uint8Array.from([...full, 0, 0]), /header says 393329 bytes but 393331 were given/],
    ['wrong magic', () => patched(full, 0, [0x5f, 0xa1]), /not SEAL data \(magic 0xa15f/],
    ['wrong version', () => patched(full, 3, [3, 4]), /written by SEAL 3.4, this build reads SEAL 4.1/],
    ['unknown compression', () => patched(full, 5, [7]), /unknown compression mode 7/],
    ['zstd', () => patched(full, 5, [2]), /zstd-compressed data is not accepted/],
    ['huge size field', () => patched(full, 8, u64(0xffffffffffffn)), /header says 281474976710655 bytes/],
    ['absurd size field', () => patched(full, 8, u64(0xffffffffffffffffn)), /size field 18446744073709551615 is absurd/],
    ['other parameters', () => otherCiphertext(), /ciphertext: made under other encryption parameters/],
    ['not in NTT form', () => patched(full, 48, [0]), /is not in NTT form/],
    ['17 polynomials', () => patched(full, 49, u64(17n)), /has 17 polynomials \(SEAL allows 2…16\)/],
    ['3 polynomials', () => patched(full, 49, u64(3n)), /holds 49152 coefficients, expected 73728/],
    ['wrong N', () => patched(full, 57, u64(4096n)), /has N=4096, these parameters have N=8192/],
    ['wrong prime count', () => patched(full, 65, u64(2n)), /has 2 primes, its level has 3/],
    ['NaN scale', () => patched(full, 73, [0, 0, 0, 0, 0, 0, 0xf8, 0x7f]), /scale NaN is not a positive finite number/],
    ['negative scale', () => patched(full, 80, [0xc2]), /is not a positive finite number/],
    ['scale 2^200', () => patched(full, 73, [0, 0, 0, 0, 0, 0, 0x70, 0x4c]), /ciphertext: scale 2\^200.00 is out of bounds at level 2/],
    ['correction factor', () => patched(full, 81, u64(2n)), /correction factor 2/],
    ['huge coefficient count', () => patched(full, 105, u64(1n << 40n)), /holds 1099511627776 coefficients, expected 49152 or 24576/],
    [
      'unreduced coefficient',
      () => patched(full, 113 + 8 * 8192 + 16, u64(0xffffffffffffffffn)),
      /coefficient 8194 is not reduced modulo its prime/,
    ],
    ['seed with unknown PRNG', () => patched(seeded, seeded.length - 65, [9]), /PRNG type 9 is unknown/],
    [
      'trailing data inside the size',
      () => Uint8Array.from([...patched(full, 8, u64(BigInt(full.length + 4))), 1, 2, 3, 4]),
      /4 bytes off/,
    ],
    ['a zlib bomb', () => zlibBomb(), /inflates to more than the 393329 bytes/],
    ['corrupt zlib', () => patched(full, 5, [1]), /zlib data is corrupt/],
  ];

  it.each(cases)('%s', (_name, make, message) => {
    const faults = wasmStatus().faults;
    const bytes = make();
    expect(() => loadCiphertext(f.ctx, bytes)).toThrow(message);
    expect(() => loadCiphertext(f.ctx, bytes)).toThrow(CkksError);
    expect(wasmStatus().faults).toBe(faults); // rejected in JS: SEAL never threw
  });

  it('random mutations of a valid ciphertext either load or give a CkksError, and SEAL keeps working', () => {
    const rnd = randomBytes(600, 3);
    let rejected = 0;
    for (let i = 0; i < 200; i++) {
      // mostly the metadata and headers, sometimes the data
      const at = i % 4 === 0 ? 113 + ((rnd[i]! * 1531 + i * 7919) % (full.length - 113)) : (rnd[i + 200]! + i) % 130;
      const bytes = patched(full, at, [rnd[i + 400]! ^ 0x5a]);
      try {
        loadCiphertext(f.ctx, bytes).free();
      } catch (err) {
        expect(err).toBeInstanceOf(CkksError);
        rejected++;
      }
    }
    expect(rejected).toBeGreaterThan(100);
    const ct = loadCiphertext(f.ctx, full);
    expect(maxAbsDiff(f.enc.decrypt(ct), x)).toBeLessThan(1e-6);
    ct.free();
  });

  it('a disposed context refuses to load', async () => {
    const ctx = await CkksContext.create({ polyModulusDegree: 8192, coeffModulusBits: [60, 40, 40, 60] });
    ctx.dispose();
    expect(() => loadCiphertext(ctx, full)).toThrow('ciphertext: the CKKS context was disposed');
  });
});

function randomBytes(n: number, seed: number): Uint8Array {
  return Uint8Array.from(randomValues(n, seed), (v) => Math.floor((v + 1) * 127.99));
}

function otherCiphertext(): Uint8Array {
  const ct = other.enc.encrypt(x, 2 ** 30);
  try {
    return saveCiphertext(ct);
  } finally {
    ct.free();
  }
}

/** A valid header claiming zlib, followed by 10 MB of zeros compressed to a few KB. */
function zlibBomb(): Uint8Array {
  const body = deflateSync(new Uint8Array(10 * 2 ** 20), { level: 9 });
  const out = new Uint8Array(16 + body.length);
  out.set(full.subarray(0, 16));
  out[5] = 1;
  new DataView(out.buffer).setBigUint64(8, BigInt(out.length), true);
  out.set(body, 16);
  return out;
}
