/**
 * Softmax cross-entropy on logits, with soft targets (one-hot labels, or Mixup's blends of two labels).
 */

/** Write one-hot rows of `classes` values for `labels` into `out` (n × classes). */
export function oneHot(labels: ArrayLike<number>, n: number, classes: number, out: Float64Array): Float64Array {
  out.fill(0, 0, n * classes);
  for (let i = 0; i < n; i++) out[i * classes + labels[i]!] = 1;
  return out;
}

/**
 * Mean over the batch of −Σ_c t_c·log softmax(z)_c, computed stably (log-sum-exp with the row max subtracted).
 * When `dLogits` is given it receives ∂loss/∂z = (softmax(z) − t)/n.
 */
export function softmaxCrossEntropy(
  logits: Float64Array,
  n: number,
  classes: number,
  targets: Float64Array,
  dLogits: Float64Array | null,
): number {
  let total = 0;
  for (let r = 0; r < n; r++) {
    const o = r * classes;
    let m = -Infinity;
    for (let c = 0; c < classes; c++) if (logits[o + c]! > m) m = logits[o + c]!;
    let s = 0;
    for (let c = 0; c < classes; c++) s += Math.exp(logits[o + c]! - m);
    const lse = m + Math.log(s);
    for (let c = 0; c < classes; c++) {
      const t = targets[o + c]!;
      if (t !== 0) total -= t * (logits[o + c]! - lse);
      if (dLogits) dLogits[o + c] = (Math.exp(logits[o + c]! - lse) - t) / n;
    }
  }
  return total / n;
}
