/**
 * Dense linear solve by LU factorisation with partial (row) pivoting, on row-major Float64Array storage.
 * Used by the Remez iteration, whose systems are small (≤ ~520 unknowns) and fit in cache; a hand-written
 * loop is several times faster here than a general matrix library.
 */
import { FitError } from '../errors.js';

/**
 * Solve A·x = b in place (A is n×n row-major and is overwritten by its LU factors; b is overwritten by x).
 * Gaussian elimination with partial pivoting (Golub & Van Loan, Alg. 3.4.1). Throws FitError when a pivot
 * is zero or not finite (singular or non-finite system).
 */
export function solveLinearInPlace(a: Float64Array, b: Float64Array, n: number): Float64Array {
  if (a.length !== n * n || b.length !== n) {
    throw new FitError(`linear solve: expected a ${n}×${n} matrix and ${n} right-hand values, got ${a.length} and ${b.length}`);
  }
  for (let k = 0; k < n; k++) {
    // pivot: largest |a[i][k]| for i ≥ k
    let p = k;
    let best = Math.abs(a[k * n + k]!);
    for (let i = k + 1; i < n; i++) {
      const v = Math.abs(a[i * n + k]!);
      if (v > best) {
        best = v;
        p = i;
      }
    }
    if (!(best > 0) || !Number.isFinite(best)) {
      throw new FitError(`linear solve: singular or non-finite system (pivot ${best} in column ${k} of ${n})`);
    }
    if (p !== k) {
      const rk = k * n;
      const rp = p * n;
      for (let j = 0; j < n; j++) {
        const t = a[rk + j]!;
        a[rk + j] = a[rp + j]!;
        a[rp + j] = t;
      }
      const t = b[k]!;
      b[k] = b[p]!;
      b[p] = t;
    }
    const rk = k * n;
    const pivot = a[rk + k]!;
    for (let i = k + 1; i < n; i++) {
      const ri = i * n;
      const m = a[ri + k]! / pivot;
      if (m === 0) continue;
      a[ri + k] = m;
      for (let j = k + 1; j < n; j++) a[ri + j] = a[ri + j]! - m * a[rk + j]!;
      b[i] = b[i]! - m * b[k]!;
    }
  }
  // back substitution
  for (let i = n - 1; i >= 0; i--) {
    const ri = i * n;
    let s = b[i]!;
    for (let j = i + 1; j < n; j++) s -= a[ri + j]! * b[j]!;
    b[i] = s / a[ri + i]!;
  }
  return b;
}
