/**
 * Predicted serialized sizes of ciphertexts and evaluation keys, from the SEAL object layout: a ciphertext is
 * 2 polynomials × (data primes at its level) × N coefficients × 8 bytes (+ header); the seeded form stores the
 * second polynomial as a 64-byte seed; relinearisation and each Galois key hold (primes − 1) key-switching
 * pairs over the full key modulus. Compared with measured sizes in test/ckks and bench.
 */
const HEADER = 16 + 8 * 8; // SEAL header + parms_id/metadata

export function predictSizes(
  polyModulusDegree: number,
  coeffModulusBits: readonly number[],
  galoisSteps: number,
): { ciphertextBytes: number; seededCiphertextBytes: number; relinKeyBytes: number; galoisKeyBytes: number } {
  const dataPrimes = coeffModulusBits.length - 1;
  const allPrimes = coeffModulusBits.length;
  const poly = (primes: number) => primes * polyModulusDegree * 8;
  const ciphertextBytes = HEADER + 2 * poly(dataPrimes);
  const seededCiphertextBytes = HEADER + poly(dataPrimes) + 64;
  // one key-switching key: dataPrimes pairs, each 2 polynomials over all primes; seeded halves it
  const ksKey = dataPrimes * 2 * poly(allPrimes);
  const relinKeyBytes = HEADER + ksKey / 2;
  const galoisKeyBytes = HEADER + (galoisSteps * ksKey) / 2;
  return { ciphertextBytes, seededCiphertextBytes, relinKeyBytes, galoisKeyBytes };
}
