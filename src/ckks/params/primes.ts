/**
 * The primes SEAL's `CoeffModulus::Create(N, bitSizes)` picks, computed without loading SEAL, so a plan can
 * track every scale exactly (rescale divides by the dropped prime as a double). SEAL's algorithm
 * (util/numth get_primes): for each bit size b, walk down from the largest value ≡ 1 (mod 2N) below 2^b in steps
 * of 2N, keeping primes until enough are found or 2^(b−1) is reached; then hand them out per bit size from the
 * smallest found to the largest, in the order the sizes appear. test/ckks checks this against SEAL itself.
 */

/** Deterministic Miller–Rabin for n < 3.3·10^24 (bases 2..37), which covers SEAL's ≤ 61-bit primes. */
export function isPrime(n: bigint): boolean {
  if (n < 2n) return false;
  const small = [2n, 3n, 5n, 7n, 11n, 13n, 17n, 19n, 23n, 29n, 31n, 37n];
  for (const p of small) {
    if (n === p) return true;
    if (n % p === 0n) return false;
  }
  let d = n - 1n;
  let r = 0;
  while ((d & 1n) === 0n) {
    d >>= 1n;
    r++;
  }
  const modPow = (base: bigint, exp: bigint): bigint => {
    let result = 1n;
    let b = base % n;
    let e = exp;
    while (e > 0n) {
      if (e & 1n) result = (result * b) % n;
      b = (b * b) % n;
      e >>= 1n;
    }
    return result;
  };
  outer: for (const a of small) {
    let x = modPow(a, d);
    if (x === 1n || x === n - 1n) continue;
    for (let i = 1; i < r; i++) {
      x = (x * x) % n;
      if (x === n - 1n) continue outer;
    }
    return false;
  }
  return true;
}

/** Up to `count` primes ≡ 1 (mod factor) with exactly `bits` bits, largest first (fewer if not enough exist). */
export function primesCongruentOne(factor: number, bits: number, count: number): bigint[] {
  const f = BigInt(factor);
  let value = (((1n << BigInt(bits)) - 1n) / f) * f + 1n;
  const lower = 1n << BigInt(bits - 1);
  const out: bigint[] = [];
  while (out.length < count && value > lower) {
    if (isPrime(value)) out.push(value);
    value -= f;
  }
  return out;
}

/** Primes found so far per (N, bits), largest first, and whether the search reached 2^(bits−1) (all of them). */
const found = new Map<string, { primes: readonly bigint[]; all: boolean }>();

/** Up to `count` primes ≡ 1 (mod 2N) of exactly `bits` bits, largest first, memoised (a plan asks many times). */
function primesFor(polyModulusDegree: number, bits: number, count: number): readonly bigint[] {
  const key = `${polyModulusDegree}:${bits}`;
  const known = found.get(key);
  if (known && (known.all || known.primes.length >= count)) return known.primes.slice(0, count);
  const primes = primesCongruentOne(2 * polyModulusDegree, bits, count);
  found.set(key, { primes, all: primes.length < count });
  return primes;
}

/** How many primes of exactly `bits` bits are ≡ 1 (mod 2N), i.e. how many a chain can use, capped at `cap`. */
export function availablePrimeCount(polyModulusDegree: number, bits: number, cap = 64): number {
  return primesFor(polyModulusDegree, bits, cap).length;
}

/** Smallest prime size of which at least `count` primes exist for this N (null if none up to `maxBits`). */
export function smallestPrimeBits(polyModulusDegree: number, count: number, minBits = 2, maxBits = 60): number | null {
  for (let b = minBits; b <= maxBits; b++) if (availablePrimeCount(polyModulusDegree, b, count) >= count) return b;
  return null;
}

/**
 * The primes SEAL picks for `CoeffModulus.Create(N, bitSizes)`, in chain order, or null when SEAL would fail with
 * "failed to find enough qualifying primes".
 */
export function coeffModulusPrimes(polyModulusDegree: number, bitSizes: readonly number[]): bigint[] | null {
  const counts = new Map<number, number>();
  for (const b of bitSizes) counts.set(b, (counts.get(b) ?? 0) + 1);
  const table = new Map<number, bigint[]>();
  for (const [b, c] of counts) {
    const ps = primesFor(polyModulusDegree, b, c);
    if (ps.length < c) return null;
    table.set(b, [...ps]);
  }
  return bitSizes.map((b) => table.get(b)!.pop()!);
}
