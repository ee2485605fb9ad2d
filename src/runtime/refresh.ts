/**
 * Client-aided refresh (docs/refresh.md), the runtime's half. At a refresh round the evaluator masks every slot of
 * each ciphertext with uniform noise r ∈ [−R, R] (a plaintext addition: no level, no noise), the key holder
 * decrypts x + r and encrypts it afresh at the top level, and the evaluator subtracts r. The key holder sees only
 * x + r; the masks never leave the evaluator.
 *
 * Masking and unmasking may run in different requests (the server keeps nothing between rounds), so the masks of
 * an evaluation are a function of (round, ciphertext): a keyed PRF, HMAC-SHA256 for the key of each mask and
 * AES-256-CTR to expand it (prfMasks).
 */
import { createCipheriv, createHmac, randomBytes } from 'node:crypto';
import { ciphertextRelayout, relayoutSlots, type RefreshRound } from '../circuit/index.js';
import { Prng } from '../nn/prng.js';
import type { Backend, CipherHandle } from './backend.js';
import { InputError, RuntimeError } from './errors.js';

/**
 * The key holder's side of one round: decrypt each masked ciphertext and encrypt its values afresh at the round's
 * fresh level (the top) and scale, in order. Locally a function of the backend (localRefreshClient); across HTTP,
 * the client.
 */
export type RefreshClient = (masked: readonly CipherHandle[], round: RefreshRound) => CipherHandle[];

/**
 * The masks of one evaluation: `count` values uniform on [−bound, bound] for ciphertext `ciphertext` of round
 * `round`, the same every time they are asked for (the evaluator masks and later unmasks with them).
 */
export type RoundMasks = (round: number, ciphertext: number, count: number, bound: number) => Float64Array;

/** `count` values uniform on [−bound, bound], each from two 32-bit words (53 random bits). */
function uniformMasks(count: number, bound: number, word: (i: number) => number): Float64Array {
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const u = ((word(2 * i) >>> 5) * 67108864 + (word(2 * i + 1) >>> 6)) / 9007199254740992; // 27 + 26 bits: [0, 1)
    out[i] = (2 * u - 1) * bound;
  }
  return out;
}

/** Bytes of the PRF's secret (an AES-256 / HMAC-SHA256 key). */
export const MASK_SECRET_BYTES = 32;

/**
 * Masks from a keyed PRF: the key of round `round`'s ciphertext `k` is HMAC-SHA256(secret, inference ‖ u32 round ‖
 * u32 k) (big-endian), expanded by AES-256-CTR from a zero IV into 8 bytes per mask (each key encrypts one
 * stream, so the fixed IV never repeats under a key). Anyone who knows `secret` and `inference` can re-derive r;
 * nobody else can tell it from uniform.
 */
export function prfMasks(secret: Uint8Array, inference: Uint8Array): RoundMasks {
  if (secret.length !== MASK_SECRET_BYTES) throw new RuntimeError(`mask secret: ${secret.length} bytes, expected ${MASK_SECRET_BYTES}`);
  if (inference.length === 0) throw new RuntimeError('mask PRF: empty inference id');
  return (round, ciphertext, count, bound) => {
    const label = Buffer.alloc(inference.length + 8);
    label.set(inference, 0);
    label.writeUInt32BE(round, inference.length);
    label.writeUInt32BE(ciphertext, inference.length + 4);
    const key = createHmac('sha256', secret).update(label).digest();
    const stream = createCipheriv('aes-256-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(8 * count));
    return uniformMasks(count, bound, (i) => stream.readUInt32LE(4 * i));
  };
}

/** Masks for one evaluation from a fresh random secret (the OS CSPRNG): what local encrypted runs use. */
export function freshMasks(): RoundMasks {
  return prfMasks(randomBytes(MASK_SECRET_BYTES), randomBytes(16));
}

/**
 * Masks for each evaluation from a seeded generator (a new PRF secret per call): the simulator's, so a seeded sim
 * run is reproducible. Not for encryption.
 */
export function seededMasks(seed: number): () => RoundMasks {
  const prng = new Prng(seed);
  return () => {
    const secret = new Uint8Array(MASK_SECRET_BYTES);
    for (let i = 0; i < secret.length; i += 4) new DataView(secret.buffer).setUint32(i, prng.nextUint32());
    return prfMasks(secret, Uint8Array.of(0));
  };
}

/** The key holder in the same process (pann run, tests): decrypt with the backend's secret key, encrypt again. */
export function localRefreshClient(be: Backend): RefreshClient {
  return (masked, round) =>
    masked.map((h, k) => be.encrypt(relayoutSlots(be.decrypt(h), ciphertextRelayout(round, k), be.slotCount), round.fresh.scale));
}

/**
 * x ± r: a plaintext addition of `sign` · the round's mask of ciphertext k, at the ciphertext's level and scale.
 * Unmasking a relaid round subtracts r moved the same way as the values (the key holder sent back x + r relaid).
 */
function addMask(be: Backend, h: CipherHandle, round: RefreshRound, k: number, masks: RoundMasks, sign: 1 | -1): CipherHandle {
  let r = masks(round.index, k, be.slotCount, round.maskBounds[k]!);
  if (sign < 0) r = relayoutSlots(r, ciphertextRelayout(round, k), be.slotCount);
  if (sign < 0) for (let i = 0; i < r.length; i++) r[i] = -r[i]!;
  const p = be.encode(r, h.level, h.scale);
  try {
    return be.addPlain(h, p);
  } finally {
    be.free(p);
  }
}

/** The evaluator before the key holder: the round's sources masked (new ciphertexts; the caller keeps the sources). */
export function maskRound(be: Backend, sources: readonly CipherHandle[], round: RefreshRound, masks: RoundMasks): CipherHandle[] {
  const out: CipherHandle[] = [];
  try {
    sources.forEach((h, k) => out.push(addMask(be, h, round, k, masks, 1)));
    return out;
  } catch (err) {
    for (const h of out) be.free(h);
    throw err;
  }
}

/**
 * The evaluator after the key holder: checks the fresh ciphertexts (count, level, scale: an InputError naming the
 * first wrong one) and subtracts the masks (new ciphertexts; the caller keeps `fresh`).
 */
export function unmaskRound(be: Backend, fresh: readonly CipherHandle[], round: RefreshRound, masks: RoundMasks): CipherHandle[] {
  const { level, scale } = round.fresh;
  if (fresh.length !== round.sources.length) {
    throw new InputError(`refresh round ${round.index}: sent ${round.sources.length} ciphertexts, got ${fresh.length} back`);
  }
  fresh.forEach((h, k) => {
    if (h.level !== level || h.scale !== scale) {
      throw new InputError(
        `refresh round ${round.index}: ciphertext ${k} came back at level ${h.level}, scale ${h.scale} (expected level ${level}, scale ${scale})`,
      );
    }
  });
  const out: CipherHandle[] = [];
  try {
    fresh.forEach((h, k) => out.push(addMask(be, h, round, k, masks, -1)));
    return out;
  } catch (err) {
    for (const h of out) be.free(h);
    throw err;
  }
}
