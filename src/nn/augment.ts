/**
 * Data augmentation for image inputs ([C, H, W]): a random integer shift, optionally combined with a small random
 * rotation and zoom about the image centre (bilinear sampling, zero outside the image). One draw per sample.
 */
import { TrainError } from '../errors.js';
import type { Shape } from './model.js';
import type { Prng } from './prng.js';

export interface AugmentOptions {
  /** Largest shift in pixels along each axis (integer shifts drawn uniformly in [−shift, shift]). @default 0 */
  shift?: number;
  /** Largest rotation in degrees (uniform in [−rotate, rotate]). @default 0 */
  rotate?: number;
  /** Largest relative zoom (uniform in [1 − scale, 1 + scale]). @default 0 */
  scale?: number;
}

export function augmentationEnabled(o: AugmentOptions | undefined): boolean {
  return !!o && ((o.shift ?? 0) > 0 || (o.rotate ?? 0) > 0 || (o.scale ?? 0) > 0);
}

/** Pixel (y, x) of the plane at offset o, 0 outside the image. */
function pixel(img: Float64Array, o: number, H: number, W: number, y: number, x: number): number {
  return y >= 0 && y < H && x >= 0 && x < W ? img[o + y * W + x]! : 0;
}

/** Write an augmented copy of the n samples of x into out. */
export function augmentBatch(x: Float64Array, n: number, shape: Shape, options: AugmentOptions, rng: Prng, out: Float64Array): void {
  if (shape.length !== 3) throw new TrainError(`augmentation needs image inputs [channels, height, width], got [${shape.join(', ')}]`);
  const { shift = 0, rotate = 0, scale = 0 } = options;
  const [C, H, W] = shape as [number, number, number];
  const plane = H * W;
  const cy = (H - 1) / 2;
  const cx = (W - 1) / 2;
  const maxShift = Math.floor(shift);
  for (let s = 0; s < n; s++) {
    const ty = maxShift > 0 ? rng.int(2 * maxShift + 1) - maxShift : 0;
    const tx = maxShift > 0 ? rng.int(2 * maxShift + 1) - maxShift : 0;
    const angle = rotate > 0 ? (rng.uniform(-rotate, rotate) * Math.PI) / 180 : 0;
    const zoom = scale > 0 ? rng.uniform(1 - scale, 1 + scale) : 1;
    const base = s * C * plane;
    if (angle === 0 && zoom === 1) {
      for (let c = 0; c < C; c++) {
        const o = base + c * plane;
        for (let i = 0; i < H; i++) {
          const si = i - ty;
          for (let j = 0; j < W; j++) {
            const sj = j - tx;
            out[o + i * W + j] = si >= 0 && si < H && sj >= 0 && sj < W ? x[o + si * W + sj]! : 0;
          }
        }
      }
      continue;
    }
    // inverse map: source = R(−angle)·(p − centre − t)/zoom + centre
    const cos = Math.cos(angle) / zoom;
    const sin = Math.sin(angle) / zoom;
    for (let i = 0; i < H; i++) {
      for (let j = 0; j < W; j++) {
        const dy = i - cy - ty;
        const dx = j - cx - tx;
        const sy = cos * dy - sin * dx + cy;
        const sx = sin * dy + cos * dx + cx;
        const y0 = Math.floor(sy);
        const x0 = Math.floor(sx);
        const fy = sy - y0;
        const fx = sx - x0;
        for (let c = 0; c < C; c++) {
          const o = base + c * plane;
          out[o + i * W + j] =
            (1 - fy) * ((1 - fx) * pixel(x, o, H, W, y0, x0) + fx * pixel(x, o, H, W, y0, x0 + 1)) +
            fy * ((1 - fx) * pixel(x, o, H, W, y0 + 1, x0) + fx * pixel(x, o, H, W, y0 + 1, x0 + 1));
        }
      }
    }
  }
}
