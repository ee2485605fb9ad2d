/**
 * Mixup (Zhang, Cisse, Dauphin & Lopez-Paz, "mixup: Beyond Empirical Risk Minimization", ICLR 2018): train on
 * convex combinations λ·(x_i, y_i) + (1 − λ)·(x_π(i), y_π(i)) of the batch with a random permutation π of itself,
 * λ ~ Beta(α, α), one λ per batch as in the paper's reference code.
 */
import type { Prng } from './prng.js';

/**
 * Mix a batch in place: inputs x (n × size) and soft targets (n × classes). `scratch` must hold n·size values.
 * Returns the λ used.
 */
export function mixupBatch(
  x: Float64Array,
  targets: Float64Array,
  n: number,
  size: number,
  classes: number,
  alpha: number,
  rng: Prng,
  scratch: Float64Array,
): number {
  if (!(alpha > 0) || n < 2) return 1;
  const lambda = rng.beta(alpha, alpha);
  const perm = rng.shuffle(Int32Array.from({ length: n }, (_, i) => i));
  scratch.set(x.subarray(0, n * size));
  const t0 = targets.slice(0, n * classes);
  for (let i = 0; i < n; i++) {
    const j = perm[i]!;
    for (let k = 0; k < size; k++) x[i * size + k] = lambda * scratch[i * size + k]! + (1 - lambda) * scratch[j * size + k]!;
    for (let c = 0; c < classes; c++) targets[i * classes + c] = lambda * t0[i * classes + c]! + (1 - lambda) * t0[j * classes + c]!;
  }
  return lambda;
}
