/**
 * Client-aided refresh (docs/refresh.md), the runtime's half. At a refresh round the evaluator masks every slot of
 * each ciphertext with fresh uniform noise r ∈ [−R, R] (a plaintext addition: no level, no noise), the key holder
 * decrypts x + r and encrypts it afresh at the top level, and the evaluator subtracts r. The key holder sees only
 * x + r; the masks never leave the evaluator.
 */
import { randomBytes } from 'node:crypto';
import { Prng } from '../nn/prng.js';
import type { Backend, CipherHandle } from './backend.js';
import { RuntimeError } from './errors.js';

/**
 * The key holder's side of one round: decrypt each masked ciphertext and encrypt its values afresh at the top
 * level and `scale`, in order. Locally a function of the backend (localRefreshClient); across HTTP, the client.
 */
export type RefreshClient = (masked: readonly CipherHandle[], scale: number) => CipherHandle[];

/** `count` mask values uniform on [−bound, bound]. */
export type MaskSource = (count: number, bound: number) => Float64Array;

/** `count` values uniform on [−bound, bound], each from two 32-bit words (53 random bits). */
function uniformMasks(count: number, bound: number, word: (i: number) => number): Float64Array {
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const u = ((word(2 * i) >>> 5) * 67108864 + (word(2 * i + 1) >>> 6)) / 9007199254740992; // 27 + 26 bits: [0, 1)
    out[i] = (2 * u - 1) * bound;
  }
  return out;
}

/** Masks from the operating system's CSPRNG: what encrypted runs use. */
export const cryptoMasks: MaskSource = (count, bound) => {
  const bytes = randomBytes(8 * count);
  return uniformMasks(count, bound, (i) => bytes.readUInt32LE(4 * i));
};

/** Masks from a seeded generator: the simulator's, so a seeded sim run is reproducible. Not for encryption. */
export function seededMasks(seed: number): MaskSource {
  const prng = new Prng(seed);
  return (count, bound) => uniformMasks(count, bound, () => prng.nextUint32());
}

/** The key holder in the same process (pann run, tests): decrypt with the backend's secret key, encrypt again. */
export function localRefreshClient(be: Backend): RefreshClient {
  return (masked, scale) =>
    masked.map((h) => {
      const values = be.decrypt(h);
      return be.encrypt(values, scale);
    });
}

/** One refresh round as the evaluator runs it: mask, hand to the key holder, unmask. Frees what it makes. */
export function refreshRound(
  be: Backend,
  sources: readonly CipherHandle[],
  bounds: readonly number[],
  scale: number,
  client: RefreshClient,
  masks: MaskSource,
): CipherHandle[] {
  const r = bounds.map((b) => masks(be.slotCount, b));
  const masked = sources.map((h, k) => {
    const p = be.encode(r[k]!, h.level, h.scale);
    try {
      return be.addPlain(h, p);
    } finally {
      be.free(p);
    }
  });
  let fresh: CipherHandle[];
  try {
    fresh = client(masked, scale);
  } finally {
    for (const h of masked) be.free(h);
  }
  const wrong =
    fresh.length !== sources.length
      ? `sent ${sources.length} ciphertexts, got ${fresh.length} back`
      : fresh
          .map((h, k) =>
            h.level !== be.maxLevel || h.scale !== scale ? `ciphertext ${k} came back at level ${h.level}, scale ${h.scale}` : '',
          )
          .find((m) => m !== '');
  if (wrong) {
    for (const h of fresh) be.free(h);
    throw new RuntimeError(`refresh: ${wrong} (expected level ${be.maxLevel}, scale ${scale})`);
  }
  return fresh.map((h, k) => {
    try {
      const p = be.encode(
        r[k]!.map((v) => -v),
        h.level,
        h.scale,
      );
      try {
        return be.addPlain(h, p);
      } finally {
        be.free(p);
      }
    } finally {
      be.free(h);
    }
  });
}
