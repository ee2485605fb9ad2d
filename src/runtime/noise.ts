/**
 * How much CKKS noise a compiled circuit adds to its outputs, estimated before any key exists: the calibration
 * inputs run through the `sim` backend twice, exactly and with its CKKS noise model (0.9–1.4× SEAL's measured
 * noise, see sim-backend.ts), and the logits are compared. The compiler stores the result in the circuit's report.
 */
import type { Circuit, NoiseEstimate } from '../circuit/index.js';
import { runSim } from './inference.js';

/** Simulate `count` inputs (back to back) exactly and with noise (seeded); compare their logits. */
export function estimateNoise(
  circuit: Circuit,
  inputs: Float64Array,
  count: number,
  seed = 1,
  onProgress?: (done: number, total: number) => void,
): NoiseEstimate {
  // two passes over the inputs: exact, then with noise
  const exact = runSim(circuit, inputs, count, onProgress ? { onProgress: (d) => onProgress(d, 2 * count) } : {});
  const noisy = runSim(circuit, inputs, count, {
    noise: { seed },
    ...(onProgress ? { onProgress: (d: number) => onProgress(count + d, 2 * count) } : {}),
  });
  let sq = 0;
  let n = 0;
  let max = 0;
  let flips = 0;
  const gaps: number[] = [];
  exact.forEach((e, i) => {
    const y = noisy[i]!;
    if (y.prediction !== e.prediction) flips++;
    e.logits.forEach((v, j) => {
      const d = y.logits[j]! - v;
      sq += d * d;
      n++;
      max = Math.max(max, Math.abs(d));
    });
    gaps.push(topTwoGap(e.logits));
  });
  gaps.sort((a, b) => a - b);
  const rms = Math.sqrt(sq / Math.max(1, n));
  // the top two logits move independently by ~N(0, rms²): a prediction flips when their difference, ~N(0, 2·rms²),
  // exceeds the gap; averaged over the calibration gaps this estimates the rate even when none flipped here
  const sd = Math.SQRT2 * rms;
  const expected = sd > 0 ? gaps.reduce((a, g) => a + 0.5 * erfc(g / (sd * Math.SQRT2)), 0) / Math.max(1, gaps.length) : 0;
  return {
    inputs: count,
    seed,
    rmsLogitError: rms,
    maxLogitError: max,
    flips,
    expectedFlipRate: expected,
    medianTopTwoGap: gaps[Math.floor(gaps.length / 2)] ?? 0,
  };
}

/** Largest logit minus the second largest (Infinity for a single output): how much noise a prediction can take. */
export function topTwoGap(logits: ArrayLike<number>): number {
  let first = -Infinity;
  let second = -Infinity;
  for (let i = 0; i < logits.length; i++) {
    const v = logits[i]!;
    if (v > first) [first, second] = [v, first];
    else if (v > second) second = v;
  }
  return first - second;
}

/** Complementary error function (Numerical Recipes' erfcc: relative error < 1.2e-7 everywhere). */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520395 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}
