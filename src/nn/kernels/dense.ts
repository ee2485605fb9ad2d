/**
 * Dense (fully connected) layer kernels on a batch: y[b] = W·x[b] + bias, W out×in row-major.
 * Loops are blocked by four (outputs in the forward pass, samples and outputs in the backward pass) so each row
 * loaded from memory feeds four multiply-adds.
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
    let o = 0;
    for (; o + 3 < outF; o += 4) {
      const w0 = o * inF;
      const w1 = w0 + inF;
      const w2 = w1 + inF;
      const w3 = w2 + inF;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let i = 0; i < inF; i++) {
        const v = x[xo + i]!;
        s0 += weight[w0 + i]! * v;
        s1 += weight[w1 + i]! * v;
        s2 += weight[w2 + i]! * v;
        s3 += weight[w3 + i]! * v;
      }
      y[yo + o] = bias[o]! + s0;
      y[yo + o + 1] = bias[o + 1]! + s1;
      y[yo + o + 2] = bias[o + 2]! + s2;
      y[yo + o + 3] = bias[o + 3]! + s3;
    }
    for (; o < outF; o++) {
      const wo = o * inF;
      let s = 0;
      for (let i = 0; i < inF; i++) s += weight[wo + i]! * x[xo + i]!;
      y[yo + o] = bias[o]! + s;
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
  for (let b = 0; b < n; b++) for (let o = 0; o < outF; o++) dBias[o] = dBias[o]! + dy[b * outF + o]!;
  // dW[o] += Σ_b dy[b][o]·x[b], four samples at a time
  for (let o = 0; o < outF; o++) {
    const wo = o * inF;
    let b = 0;
    for (; b + 3 < n; b += 4) {
      const g0 = dy[b * outF + o]!;
      const g1 = dy[(b + 1) * outF + o]!;
      const g2 = dy[(b + 2) * outF + o]!;
      const g3 = dy[(b + 3) * outF + o]!;
      if (g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0) continue;
      const x0 = b * inF;
      const x1 = x0 + inF;
      const x2 = x1 + inF;
      const x3 = x2 + inF;
      for (let i = 0; i < inF; i++) {
        dWeight[wo + i] = dWeight[wo + i]! + g0 * x[x0 + i]! + g1 * x[x1 + i]! + g2 * x[x2 + i]! + g3 * x[x3 + i]!;
      }
    }
    for (; b < n; b++) {
      const g = dy[b * outF + o]!;
      if (g === 0) continue;
      const xo = b * inF;
      for (let i = 0; i < inF; i++) dWeight[wo + i] = dWeight[wo + i]! + g * x[xo + i]!;
    }
  }
  if (!dx) return;
  // dx[b] = Σ_o dy[b][o]·W[o], four outputs at a time
  dx.fill(0, 0, n * inF);
  for (let b = 0; b < n; b++) {
    const xo = b * inF;
    const yo = b * outF;
    let o = 0;
    for (; o + 3 < outF; o += 4) {
      const g0 = dy[yo + o]!;
      const g1 = dy[yo + o + 1]!;
      const g2 = dy[yo + o + 2]!;
      const g3 = dy[yo + o + 3]!;
      if (g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0) continue;
      const w0 = o * inF;
      const w1 = w0 + inF;
      const w2 = w1 + inF;
      const w3 = w2 + inF;
      for (let i = 0; i < inF; i++) {
        dx[xo + i] = dx[xo + i]! + g0 * weight[w0 + i]! + g1 * weight[w1 + i]! + g2 * weight[w2 + i]! + g3 * weight[w3 + i]!;
      }
    }
    for (; o < outF; o++) {
      const g = dy[yo + o]!;
      if (g === 0) continue;
      const wo = o * inF;
      for (let i = 0; i < inF; i++) dx[xo + i] = dx[xo + i]! + g * weight[wo + i]!;
    }
  }
}
