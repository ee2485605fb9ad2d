/**
 * Dense (fully connected) layer kernels on a batch: y[b] = W·x[b] + bias, W out×in row-major.
 */

/** y (n×out) = x (n×in) · Wᵀ + bias. */
export function denseForward(
  x: Float64Array,
  n: number,
  weight: Float64Array,
  bias: Float64Array,
  inF: number,
  outF: number,
  y: Float64Array,
): void {
  for (let b = 0; b < n; b++) {
    const xo = b * inF;
    const yo = b * outF;
    for (let o = 0; o < outF; o++) {
      const wo = o * inF;
      let s0 = 0;
      let s1 = 0;
      let i = 0;
      for (; i + 1 < inF; i += 2) {
        s0 += weight[wo + i]! * x[xo + i]!;
        s1 += weight[wo + i + 1]! * x[xo + i + 1]!;
      }
      if (i < inF) s0 += weight[wo + i]! * x[xo + i]!;
      y[yo + o] = bias[o]! + s0 + s1;
    }
  }
}

/**
 * Backward: accumulate dW += dyᵀ·x and dBias += Σ dy; write dx = dy·W when `dx` is given.
 */
export function denseBackward(
  x: Float64Array,
  dy: Float64Array,
  n: number,
  weight: Float64Array,
  inF: number,
  outF: number,
  dWeight: Float64Array,
  dBias: Float64Array,
  dx: Float64Array | null,
): void {
  if (dx) dx.fill(0, 0, n * inF);
  for (let b = 0; b < n; b++) {
    const xo = b * inF;
    const yo = b * outF;
    for (let o = 0; o < outF; o++) {
      const g = dy[yo + o]!;
      if (g === 0) continue;
      dBias[o] = dBias[o]! + g;
      const wo = o * inF;
      for (let i = 0; i < inF; i++) dWeight[wo + i] = dWeight[wo + i]! + g * x[xo + i]!;
      if (dx) for (let i = 0; i < inF; i++) dx[xo + i] = dx[xo + i]! + g * weight[wo + i]!;
    }
  }
}
