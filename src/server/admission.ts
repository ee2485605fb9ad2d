/**
 * Admission of a key upload on the main thread, before any key memory is reserved or any session evicted: the
 * SEAL header of each key object (magic, version, compression, size field = its length) and its size against what
 * the model's circuit needs — uncompressed, exactly the seeded or the full size; zlib-compressed, no more than the
 * full size and at least a quarter of the seeded one (key coefficients are uniform modulo primes of 20 bits or
 * more in 64-bit words: deflate cannot take them below that). Reading headers and lengths only, it costs
 * microseconds for any upload; the worker still validates every byte before SEAL loads the keys.
 */
import type { Circuit } from '../circuit/index.js';
import { predictSizes } from '../ckks/index.js';
import { readSealHeader } from '../ckks/wire-format.js';
import { PannError, ServerError } from '../errors.js';

/** The sizes a model's keys may have, seeded and full. */
export interface KeySizes {
  /** For messages: the model's ring dimension and number of key primes. */
  params: string;
  relin: { seeded: number; full: number };
  /** Null when the circuit rotates nothing (no Galois keys may be sent). */
  galois: { seeded: number; full: number } | null;
}

export function keySizes(circuit: Circuit): KeySizes {
  const p = predictSizes(
    { polyModulusDegree: circuit.params.polyModulusDegree, coeffModulusBits: circuit.params.coeffModulusBits },
    circuit.rotationSteps,
  );
  const bits = circuit.params.coeffModulusBits;
  return {
    params: `N=${circuit.params.polyModulusDegree}, ${bits.length} primes of [${bits.join(', ')}] bits`,
    relin: { seeded: p.seededRelinKeys, full: p.relinKeys },
    galois: p.galoisKeys === null || p.seededGaloisKeys === null ? null : { seeded: p.seededGaloisKeys, full: p.galoisKeys },
  };
}

/** Throws 400 bad_keys naming the first key object whose header or size cannot be what `model` needs. */
export function admitKeys(relin: Uint8Array, galois: Uint8Array, sizes: KeySizes, model: string): void {
  checkObject(relin, sizes.relin, `relinearisation keys for model ${model}`, sizes.params);
  if (sizes.galois === null) {
    if (galois.length > 0) throw bad(`galois keys for model ${model}: given, but its circuit uses no rotations`);
    return;
  }
  if (galois.length === 0) throw bad(`galois keys for model ${model}: missing (its circuit rotates)`);
  checkObject(galois, sizes.galois, `galois keys for model ${model}`, sizes.params);
}

/**
 * The check that can be made from a key upload's header while its body still streams: each key object's length
 * within what the model's keys can take (zlib-compressed down to a quarter of the seeded size, up to the full
 * size). 400 bad_keys naming the first that is not.
 */
export function admitKeyLengths(relinBytes: number, galoisBytes: number, sizes: KeySizes, model: string): void {
  const check = (n: number, size: { seeded: number; full: number }, what: string) => {
    const floor = Math.floor(size.seeded / 4);
    if (n < floor || n > size.full)
      throw bad(
        `${what} for model ${model}: the envelope announces ${n} bytes, outside the ${floor}…${size.full} the model's keys (${sizes.params}) can take: keys made under other encryption parameters, for other rotations, or not keys`,
      );
  };
  check(relinBytes, sizes.relin, 'relinearisation keys');
  if (sizes.galois === null) {
    if (galoisBytes > 0) throw bad(`galois keys for model ${model}: announced, but its circuit uses no rotations`);
  } else check(galoisBytes, sizes.galois, 'galois keys');
}

function checkObject(bytes: Uint8Array, size: { seeded: number; full: number }, what: string, params: string): void {
  let compression: string;
  try {
    compression = readSealHeader(bytes, what).compression;
  } catch (err) {
    if (err instanceof PannError) throw bad(err.message);
    throw err;
  }
  const n = bytes.length;
  if (compression === 'none') {
    if (n !== size.seeded && n !== size.full)
      throw bad(
        `${what}: ${n} bytes uncompressed, where the model's (${params}) take ${size.seeded} (seeded) or ${size.full}: keys made under other encryption parameters, for other rotations, or cut short`,
      );
  } else if (compression === 'zlib') {
    const floor = Math.floor(size.seeded / 4);
    if (n > size.full || n < floor)
      throw bad(
        `${what}: ${n} bytes zlib-compressed, outside the ${floor}…${size.full} bytes the model's keys (${params}) can take: keys made under other encryption parameters, for other rotations, or cut short`,
      );
  } else throw bad(`${what}: ${compression}-compressed keys are not accepted; send them uncompressed or zlib-compressed`);
}

function bad(message: string): ServerError {
  return new ServerError(400, 'bad_keys', message);
}
