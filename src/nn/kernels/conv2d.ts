/**
 * 2-D convolution kernels (cross-correlation, as PyTorch and ONNX define Conv) on a batch of C-H-W tensors,
 * direct loops with the valid kernel range precomputed per output row/column (zero padding).
 */

/** Sizes of one convolution or pooling window sweep. */
export interface Geometry2d {
  inC: number;
  inH: number;
  inW: number;
  outC: number;
  outH: number;
  outW: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  ph: number;
  pw: number;
}

/** Valid kernel offsets [lo, hi) for each output position along one axis. */
export function kernelRanges(out: number, inSize: number, k: number, stride: number, pad: number): Int32Array {
  const r = new Int32Array(2 * out);
  for (let o = 0; o < out; o++) {
    const start = o * stride - pad;
    r[2 * o] = Math.max(0, -start);
    r[2 * o + 1] = Math.min(k, inSize - start);
  }
  return r;
}

/** y[b][oc][oy][ox] = bias[oc] + Σ_{ic,ky,kx} w[oc][ic][ky][kx]·x[b][ic][oy·sh−ph+ky][ox·sw−pw+kx]. */
export function conv2dForward(g: Geometry2d, x: Float64Array, n: number, weight: Float64Array, bias: Float64Array, y: Float64Array): void {
  const { inC, inH, inW, outC, outH, outW, kh, kw, sh, sw, ph, pw } = g;
  const ry = kernelRanges(outH, inH, kh, sh, ph);
  const rx = kernelRanges(outW, inW, kw, sw, pw);
  const inSize = inC * inH * inW;
  const outPlane = outH * outW;
  for (let b = 0; b < n; b++) {
    const xb = b * inSize;
    for (let oc = 0; oc < outC; oc++) {
      const yo = (b * outC + oc) * outPlane;
      const bo = bias[oc]!;
      for (let oy = 0; oy < outH; oy++) {
        const y0 = oy * sh - ph;
        const kyLo = ry[2 * oy]!;
        const kyHi = ry[2 * oy + 1]!;
        for (let ox = 0; ox < outW; ox++) {
          const x0 = ox * sw - pw;
          const kxLo = rx[2 * ox]!;
          const kxHi = rx[2 * ox + 1]!;
          let s = bo;
          for (let ic = 0; ic < inC; ic++) {
            const wBase = (oc * inC + ic) * kh * kw;
            const xBase = xb + ic * inH * inW;
            for (let ky = kyLo; ky < kyHi; ky++) {
              const wr = wBase + ky * kw;
              const xr = xBase + (y0 + ky) * inW + x0;
              for (let kx = kxLo; kx < kxHi; kx++) s += weight[wr + kx]! * x[xr + kx]!;
            }
          }
          y[yo + oy * outW + ox] = s;
        }
      }
    }
  }
}

/** Backward: accumulate dW and dBias; write dx (zero padding gets no gradient) when `dx` is given. */
export function conv2dBackward(
  g: Geometry2d,
  x: Float64Array,
  dy: Float64Array,
  n: number,
  weight: Float64Array,
  dWeight: Float64Array,
  dBias: Float64Array,
  dx: Float64Array | null,
): void {
  const { inC, inH, inW, outC, outH, outW, kh, kw, sh, sw, ph, pw } = g;
  const ry = kernelRanges(outH, inH, kh, sh, ph);
  const rx = kernelRanges(outW, inW, kw, sw, pw);
  const inSize = inC * inH * inW;
  const outPlane = outH * outW;
  if (dx) dx.fill(0, 0, n * inSize);
  for (let b = 0; b < n; b++) {
    const xb = b * inSize;
    for (let oc = 0; oc < outC; oc++) {
      const yo = (b * outC + oc) * outPlane;
      for (let oy = 0; oy < outH; oy++) {
        const y0 = oy * sh - ph;
        const kyLo = ry[2 * oy]!;
        const kyHi = ry[2 * oy + 1]!;
        for (let ox = 0; ox < outW; ox++) {
          const gv = dy[yo + oy * outW + ox]!;
          if (gv === 0) continue;
          dBias[oc] = dBias[oc]! + gv;
          const x0 = ox * sw - pw;
          const kxLo = rx[2 * ox]!;
          const kxHi = rx[2 * ox + 1]!;
          for (let ic = 0; ic < inC; ic++) {
            const wBase = (oc * inC + ic) * kh * kw;
            const xBase = xb + ic * inH * inW;
            for (let ky = kyLo; ky < kyHi; ky++) {
              const wr = wBase + ky * kw;
              const xr = xBase + (y0 + ky) * inW + x0;
              for (let kx = kxLo; kx < kxHi; kx++) dWeight[wr + kx] = dWeight[wr + kx]! + gv * x[xr + kx]!;
              if (dx) for (let kx = kxLo; kx < kxHi; kx++) dx[xr + kx] = dx[xr + kx]! + gv * weight[wr + kx]!;
            }
          }
        }
      }
    }
  }
}
