import { describe, expect, it } from 'vitest';
import { CkksError } from '../../src/errors.js';
import {
  CkksParameters,
  MAX_COEFF_MODULUS_BITS_128,
  availablePrimeCount,
  coeffModulusPrimes,
  smallestPrimeBits,
} from '../../src/ckks/params/index.js';
import { CkksContext, checkParameters, sealCoeffModulus } from '../../src/ckks/context.js';
import { loadSeal } from '../../src/ckks/wasm.js';

describe('CKKS parameters', () => {
  it("the 128-bit bound table is SEAL's CoeffModulus.MaxBitCount", async () => {
    const seal = await loadSeal();
    for (const [n, bits] of Object.entries(MAX_COEFF_MODULUS_BITS_128)) {
      expect(seal.CoeffModulus.MaxBitCount(Number(n), seal.SecurityLevel.tc128)).toBe(bits);
    }
  });

  it.each([
    [{ polyModulusDegree: 1000, coeffModulusBits: [30, 30] }, /polyModulusDegree 1000 is not supported/],
    [{ polyModulusDegree: 65536, coeffModulusBits: [60, 60] }, /polyModulusDegree 65536 is not supported/],
    [{ polyModulusDegree: 8192, coeffModulusBits: [60] }, /at least 2 primes/],
    [{ polyModulusDegree: 8192, coeffModulusBits: [61, 40, 60] }, /coeffModulusBits\[0\] = 61 is outside/],
    [{ polyModulusDegree: 8192, coeffModulusBits: [40, 30.5, 40] }, /coeffModulusBits\[1\] = 30.5/],
    [{ polyModulusDegree: 8192, coeffModulusBits: [60, 60, 60, 60] }, /240 bits, over the 128-bit security bound of 218/],
    [
      { polyModulusDegree: 8192, coeffModulusBits: [30, 20, 20, 20, 20, 20, 20, 30] },
      /finds only 5 primes of 20 bits ≡ 1 mod 16384 for N=8192, the chain needs 6/,
    ],
  ])('rejects %j with a message naming the problem', async (p, message) => {
    await expect(checkParameters(p)).rejects.toThrow(message);
    await expect(checkParameters(p)).rejects.toBeInstanceOf(CkksError);
    await expect(CkksContext.create(p)).rejects.toThrow(message);
  });

  it("reports the primes SEAL picks, as decimal strings and doubles, equal to the parameter model's prediction", async () => {
    const checked = await checkParameters({ polyModulusDegree: 8192, coeffModulusBits: [60, 40, 40, 60] });
    expect(checked.primeDecimals).toEqual(['1152921504606748673', '1099510890497', '1099511480321', '1152921504606830593']);
    expect(checked.primeValues).toEqual(checked.primeDecimals.map(Number));
    expect(checked.primes.map((q) => q.toString(2).length)).toEqual([60, 40, 40, 60]);
    expect(checked.totalBits).toBe(200);
    for (const [n, bits] of [
      [8192, [31, 21, 21, 21, 21, 21, 21, 21, 31]],
      [8192, [40, 26, 26, 26, 26, 26, 26, 40]],
      [16384, [50, 23, 23, 23, 23, 23, 23, 23, 23, 50]],
      [4096, [36, 36, 37]],
    ] as const) {
      const seal = await sealCoeffModulus(n, bits);
      expect(coeffModulusPrimes(n, bits)?.map(String)).toEqual(seal.map(String));
    }
  });

  it('measures how many primes of each size exist and the smallest usable size', () => {
    expect(availablePrimeCount(8192, 20)).toBe(5);
    expect(availablePrimeCount(8192, 21)).toBe(10);
    expect(availablePrimeCount(16384, 22)).toBe(5);
    expect(availablePrimeCount(16384, 23)).toBe(19);
    // REFERENCE.md: at least 21 bits at N=8192 and 23 bits at N=16384 once a chain needs more than 5 middle primes
    expect(smallestPrimeBits(8192, 6)).toBe(21);
    expect(smallestPrimeBits(16384, 6)).toBe(23);
    expect(smallestPrimeBits(8192, 5)).toBe(20);
  });

  it('CkksParameters.from needs no SEAL and rejects non-objects', () => {
    expect(() => CkksParameters.from({ polyModulusDegree: 8192, coeffModulusBits: [60, 40, 60] })).not.toThrow();
    expect(() => CkksParameters.from(null as never)).toThrow(/expected \{ polyModulusDegree/);
  });
});
