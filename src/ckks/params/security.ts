/**
 * The security facts CKKS parameters are checked against: the 128-bit bounds of the Homomorphic Encryption
 * Standard (Albrecht et al. 2018, Table 1, uniform ternary secrets), as SEAL enforces them with
 * sec_level_type::tc128 (CoeffModulus::MaxBitCount), and SEAL's range of prime sizes.
 */

/** Maximum total coefficient-modulus bits for 128-bit classical security, by ring dimension N. */
export const MAX_COEFF_MODULUS_BITS_128: Readonly<Record<number, number>> = Object.freeze({
  1024: 27,
  2048: 54,
  4096: 109,
  8192: 218,
  16384: 438,
  32768: 881,
});

/** The ring dimensions pann plans for, ascending (1024 and 2048 hold too few bits for a useful chain). */
export const RING_DIMENSIONS: readonly number[] = Object.freeze([4096, 8192, 16384, 32768]);

/** SEAL's range for a user-chosen prime size (SEAL_USER_MOD_BIT_COUNT_MIN/MAX). */
export const PRIME_BITS_RANGE: Readonly<{ min: number; max: number }> = Object.freeze({ min: 2, max: 60 });
