/**
 * Rotation steps and the Galois elements that implement them. SEAL rotates the CKKS slot vector left by k with
 * the automorphism X → X^(3^k mod 2N) (generator 3, SEAL's GaloisTool::get_elt_from_step); a right rotation by k
 * is the left rotation by N/2 − k, so every step is normalised into 1 … N/2 − 1 and one key serves both spellings.
 */
import { CkksError } from '../errors.js';

/** A step as a left rotation in 1 … slotCount − 1; rejects non-integers and multiples of slotCount (no rotation). */
export function normaliseRotationStep(step: number, slotCount: number): number {
  if (!Number.isSafeInteger(step)) throw new CkksError(`rotation step ${step} is not an integer`);
  const s = ((step % slotCount) + slotCount) % slotCount;
  if (s === 0) throw new CkksError(`rotation step ${step} is a multiple of the ${slotCount} slots (no rotation; drop it)`);
  return s;
}

/** Normalised, de-duplicated, sorted steps. */
export function normaliseRotationSteps(steps: readonly number[], slotCount: number): number[] {
  if (!Array.isArray(steps)) throw new CkksError('rotation steps: expected an array of integers');
  return [...new Set(steps.map((s) => normaliseRotationStep(s, slotCount)))].sort((a, b) => a - b);
}

/** The Galois element of a left rotation by `step` (normalised first): 3^step mod 2N. */
export function galoisElement(step: number, polyModulusDegree: number): number {
  const m = 2 * polyModulusDegree;
  let e = 1;
  let base = 3;
  for (let k = normaliseRotationStep(step, polyModulusDegree / 2); k > 0; k >>= 1) {
    if (k & 1) e = (e * base) % m;
    base = (base * base) % m;
  }
  return e;
}
