/** Shared set-up for the CKKS tests: one small context per test file (each file runs in its own process). */
import { CkksContext } from '../../src/ckks/context.js';
import { CkksEncryptor } from '../../src/ckks/encryption.js';
import { generateKeys, type ClientKeys } from '../../src/ckks/keys.js';

/** N=8192, q = 60·40·40 bits + 60-bit special prime: levels 0…2 at scale 2^40. */
export const SMALL = { polyModulusDegree: 8192, coeffModulusBits: [60, 40, 40, 60] } as const;
export const SCALE = 2 ** 40;

export interface Fixture {
  ctx: CkksContext;
  keys: ClientKeys;
  enc: CkksEncryptor;
  dispose(): void;
}

export async function fixture(
  rotationSteps: number[] = [],
  params: { polyModulusDegree: number; coeffModulusBits: readonly number[] } = SMALL,
): Promise<Fixture> {
  const ctx = await CkksContext.create(params);
  const keys = generateKeys(ctx, { rotationSteps });
  const enc = new CkksEncryptor(keys);
  return {
    ctx,
    keys,
    enc,
    dispose() {
      enc.dispose();
      keys.dispose();
      ctx.dispose();
    },
  };
}

/** Seeded pseudo-random values in [-1, 1] (xorshift32). */
export function randomValues(count: number, seed: number): Float64Array {
  let s = seed >>> 0 || 1;
  return Float64Array.from({ length: count }, () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return (s / 2 ** 32) * 2 - 1;
  });
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>, n = Math.min(a.length, b.length)): number {
  let m = 0;
  for (let i = 0; i < n; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
