/**
 * The contract every execution backend implements: `seal` (real CKKS through node-seal, via src/ckks/) and
 * `sim` (float64 plaintext, op for op, optional CKKS-like noise). The executor runs a compiled circuit against
 * this interface only, so both backends perform exactly the same sequence of operations.
 *
 * Levels and scales follow SEAL's conventions and are decided by the compiler, never at run time:
 * - level ℓ means the ciphertext is at modulus q_0·…·q_ℓ (ℓ = number of rescales still available; the data
 *   level right after encryption is `maxLevel`, and a ciphertext at level 0 can no longer be rescaled);
 * - `scale` is a float64 equal to what SEAL stores: multiplication multiplies scales, rescale divides by the
 *   dropped prime q_ℓ (as a double), add/sub require equal levels and equal scales.
 * A backend validates these preconditions and throws a RuntimeError naming the op instead of aborting.
 */

/** Opaque handle to a ciphertext (SEAL Ciphertext or a simulated vector). */
export interface CipherHandle {
  readonly level: number;
  readonly scale: number;
}

/** Opaque handle to an encoded plaintext. */
export interface PlainHandle {
  readonly level: number;
  readonly scale: number;
}

/** An encoded plaintext kept outside the backend's memory (opaque; its size in bytes). */
export interface SpilledPlain {
  readonly bytes: number;
}

export interface Backend {
  readonly kind: 'seal' | 'sim';
  /** Number of CKKS slots (N/2). */
  readonly slotCount: number;
  /** Level of a fresh encryption (number of primes in the data modulus − 1). */
  readonly maxLevel: number;
  /** The primes of the coefficient modulus in order (q_0 … q_maxLevel, then the special prime), as doubles. */
  readonly primes: readonly number[];

  /**
   * Bytes of the memory the backend's ciphertexts and plaintexts live in, when it is bounded (SEAL: its WASM heap,
   * capped just under 4 GiB; the executor stops caching plaintexts well before). Absent: unbounded.
   */
  memoryBytes?(): number;

  /**
   * A copy of an encoded plaintext outside the backend's bounded memory (SEAL: its bytes in a JS buffer), to be
   * brought back by `unspill` much faster than encoding it again. Absent where memory is not bounded.
   */
  spill?(p: PlainHandle): SpilledPlain;
  /** A new plaintext handle from `spill`'s copy (the caller frees it). */
  unspill?(s: SpilledPlain): PlainHandle;

  /** Encode a plaintext vector (length ≤ slotCount, zero-padded) at a level and scale. */
  encode(values: Float64Array, level: number, scale: number): PlainHandle;
  /** The same value in every slot (the fast path for constants: no FFT). */
  encodeConstant(value: number, level: number, scale: number): PlainHandle;
  /** Encrypt a vector (length ≤ slotCount) at level maxLevel with the given scale (needs the public key). */
  encrypt(values: Float64Array, scale: number): CipherHandle;
  /** Decrypt and decode all slots (needs the secret key). */
  decrypt(ct: CipherHandle): Float64Array;

  add(a: CipherHandle, b: CipherHandle): CipherHandle;
  /** a ← a + b, overwriting a (the executor uses it when a is not read again: no new ciphertext, no copy). */
  addInPlace(a: CipherHandle, b: CipherHandle): void;
  sub(a: CipherHandle, b: CipherHandle): CipherHandle;
  negate(a: CipherHandle): CipherHandle;
  addPlain(a: CipherHandle, p: PlainHandle): CipherHandle;
  /** Ciphertext × plaintext, no rescale (scale multiplies). */
  mulPlain(a: CipherHandle, p: PlainHandle): CipherHandle;
  /** Ciphertext × ciphertext followed by relinearisation, no rescale. */
  mul(a: CipherHandle, b: CipherHandle): CipherHandle;
  /** Drop the last prime: level − 1, scale / q_level. */
  rescale(a: CipherHandle): CipherHandle;
  /** Modulus-switch down to `level` without changing the scale. */
  dropToLevel(a: CipherHandle, level: number): CipherHandle;
  /** Cyclic left rotation of the slot vector by `steps` (needs the Galois key for that step). */
  rotate(a: CipherHandle, steps: number): CipherHandle;
  /**
   * Relabel the scale of a ciphertext in place (SEAL's setScale), used only to absorb float64 rounding between
   * the plan's exact scale and SEAL's computed one: throws unless |scale / a.scale − 1| ≤ 1e-9.
   */
  setScale(a: CipherHandle, scale: number): void;

  /** Release a ciphertext's memory (no-op for the simulator). Using a freed handle throws. */
  free(h: CipherHandle | PlainHandle): void;
  /** Release everything this backend owns. */
  dispose(): void;
}
