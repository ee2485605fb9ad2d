/**
 * Average-pooling kernels on a batch of C-H-W tensors. avgpool2d divides by kh·kw everywhere, also where the
 * window covers zero padding (PyTorch's count_include_pad = true): the layer is then one fixed linear map,
 * which is what an encrypted evaluation computes.
 */
import { kernelRanges, type Geometry2d } from './conv2d.js';

export function avgPool2dForward(g: Geometry2d, x: Float64Array, n: number, y: Float64Array): void {
  const { inC, inH, inW, outH, outW, kh, kw, sh, sw, ph, pw } = g;
  const ry = kernelRanges(outH, inH, kh, sh, ph);
  const rx = kernelRanges(outW, inW, kw, sw, pw);
  const inv = 1 / (kh * kw);
  for (let p = 0; p < n * inC; p++) {
    const xo = p * inH * inW;
    const yo = p * outH * outW;
    for (let oy = 0; oy < outH; oy++) {
      const y0 = oy * sh - ph;
      for (let ox = 0; ox < outW; ox++) {
        const x0 = ox * sw - pw;
        let s = 0;
        for (let ky = ry[2 * oy]!; ky < ry[2 * oy + 1]!; ky++) {
          const xr = xo + (y0 + ky) * inW + x0;
          for (let kx = rx[2 * ox]!; kx < rx[2 * ox + 1]!; kx++) s += x[xr + kx]!;
        }
        y[yo + oy * outW + ox] = s * inv;
      }
    }
  }
}

export function avgPool2dBackward(g: Geometry2d, dy: Float64Array, n: number, dx: Float64Array): void {
  const { inC, inH, inW, outH, outW, kh, kw, sh, sw, ph, pw } = g;
  const ry = kernelRanges(outH, inH, kh, sh, ph);
  const rx = kernelRanges(outW, inW, kw, sw, pw);
  const inv = 1 / (kh * kw);
  dx.fill(0, 0, n * inC * inH * inW);
  for (let p = 0; p < n * inC; p++) {
    const xo = p * inH * inW;
    const yo = p * outH * outW;
    for (let oy = 0; oy < outH; oy++) {
      const y0 = oy * sh - ph;
      for (let ox = 0; ox < outW; ox++) {
        const x0 = ox * sw - pw;
        const gv = dy[yo + oy * outW + ox]! * inv;
        for (let ky = ry[2 * oy]!; ky < ry[2 * oy + 1]!; ky++) {
          const xr = xo + (y0 + ky) * inW + x0;
          for (let kx = rx[2 * ox]!; kx < rx[2 * ox + 1]!; kx++) dx[xr + kx] = dx[xr + kx]! + gv;
        }
      }
    }
  }
}

/** [C, H, W] → [C]: mean over each channel plane. */
export function globalAvgPoolForward(channels: number, plane: number, x: Float64Array, n: number, y: Float64Array): void {
  const inv = 1 / plane;
  for (let p = 0; p < n * channels; p++) {
    let s = 0;
    const xo = p * plane;
    for (let i = 0; i < plane; i++) s += x[xo + i]!;
    y[p] = s * inv;
  }
}

export function globalAvgPoolBackward(channels: number, plane: number, dy: Float64Array, n: number, dx: Float64Array): void {
  const inv = 1 / plane;
  for (let p = 0; p < n * channels; p++) dx.fill(dy[p]! * inv, p * plane, (p + 1) * plane);
}
