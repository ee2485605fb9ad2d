/**
 * The CKKS noise model pann plans and simulates with (per slot, real part, in coefficient units: divide by a
 * ciphertext's scale for value units). h = 2N/3 is the expected Hamming weight of SEAL's uniform ternary secret;
 * a slot is a sum of N coefficients, its real part carries half the variance (Cheon–Kim–Kim–Song 2017 §3;
 * Costache et al. 2020's average-case analysis). Checked against SEAL on the MNIST CNN at N=8192/2^21,
 * N=16384/2^24 and 2^31 scales: the RMS logit error of the model is 0.9–1.4× SEAL's measured one.
 */

/** Standard deviation of SEAL's error distribution (its default clipped normal). */
export const ERROR_STD = 3.2;

/** Public-key encryption error: √(N·σ²·(4N/3 + 1)/2). */
export function encryptionNoiseStd(polyModulusDegree: number): number {
  const n = polyModulusDegree;
  return Math.sqrt((n * ERROR_STD * ERROR_STD * ((4 * n) / 3 + 1)) / 2);
}

/**
 * Rounding both polynomials on a rescale: √(N·(1 + h)/24), the dominant CKKS noise. Key switching adds the same
 * rounding term once the special prime is well above the data primes (the compiler makes it so).
 */
export function rescaleNoiseStd(polyModulusDegree: number): number {
  const n = polyModulusDegree;
  const h = (2 * n) / 3;
  return Math.sqrt((n * (1 + h)) / 24);
}

/** Rounding of a plaintext's encoding: √(N/24) (times the ciphertext's magnitude in a product). */
export function encodingNoiseStd(polyModulusDegree: number): number {
  return Math.sqrt(polyModulusDegree / 24);
}

/**
 * A power of two above the rescale noise in value units at scale 2^scaleBits: the std is ≈ N/6 < N/4, so the noise
 * is below 2^(log2 N − 2 − scaleBits). The compiler reports it; tests bound errors by it.
 */
export function rescaleNoiseLog2Bound(polyModulusDegree: number, scaleBits: number): number {
  return Math.log2(polyModulusDegree) - 2 - scaleBits;
}
