/**
 * Keys pass: exactly the evaluation keys the circuit needs. The relinearisation key is always needed (every
 * ciphertext product); Galois keys only for the rotation steps the ops use — one per distinct step, or only
 * ±2^i when the builder decomposed rotations ('powers-of-two') — sorted, so the same network always asks the
 * client for the same keys.
 */
import type { CircuitBuilder } from '../circuit/index.js';
import { CompileError } from './errors.js';

/** The rotation steps the emitted ops use, ascending (each a left rotation in 1 … N/2 − 1). */
export function selectRotationKeys(builder: CircuitBuilder): number[] {
  const steps = [...builder.rotationSteps].sort((a, b) => a - b);
  for (const s of steps) {
    if (!Number.isInteger(s) || s < 1 || s >= builder.slotCount) throw new CompileError(`internal: rotation step ${s} is not normalised`);
  }
  return steps;
}
