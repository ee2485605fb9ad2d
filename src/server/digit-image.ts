/**
 * A PNG as an MNIST digit: 784 values in [0, 1], light strokes on a dark background, 28×28, as the shipped
 * models were trained on. Decoding uses pngjs (every PNG colour type and bit depth, expanded to 8-bit RGBA).
 *
 * 1. Colour → grey by luminance (ITU-R BT.601: 0.299 R + 0.587 G + 0.114 B), alpha composited over white.
 * 2. Inversion: MNIST digits are light on dark. If the image's border (outermost row/column of pixels) is
 *    lighter than 0.5 on average — dark ink on paper, or a transparent background — the image is inverted.
 * 3. Size: a 28×28 image is used as it is. Any other size gets MNIST's own normalisation (LeCun et al.): the
 *    bounding box of the ink (values > 0.1) is scaled, keeping its aspect ratio, so its longer side is 20 pixels
 *    (area averaging), and placed in a 28×28 field with its centre of mass at the centre.
 */
import { PNG } from 'pngjs';
import { InputError, errorMessage } from '../errors.js';

export const DIGIT_SIDE = 28;
const BOX = 20;
const INK = 0.1;
const MAX_PIXELS = 64 * 1024 * 1024;

/** Grey image, row-major, values in [0, 1]. */
interface Grey {
  width: number;
  height: number;
  data: Float64Array;
}

/** Decode a PNG into an MNIST-style digit (784 values in [0, 1]); InputError when it is not a usable PNG. */
export function digitFromPng(bytes: Uint8Array, what = 'image'): Float64Array {
  let png: PNG;
  try {
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (buf.length < 24 || buf.readUInt32BE(0) !== 0x89504e47) throw new Error('not a PNG file (bad signature)');
    const width = buf.readUInt32BE(16);
    const height = buf.readUInt32BE(20);
    if (width === 0 || height === 0 || width * height > MAX_PIXELS) throw new Error(`${width}×${height} pixels is not a usable size`);
    png = PNG.sync.read(buf);
  } catch (err) {
    throw new InputError(`${what}: cannot decode the PNG: ${errorMessage(err)}`, { cause: err });
  }
  const grey = toGrey(png);
  if (borderMean(grey) > 0.5) for (let i = 0; i < grey.data.length; i++) grey.data[i] = 1 - grey.data[i]!;
  if (grey.width === DIGIT_SIDE && grey.height === DIGIT_SIDE) return grey.data;
  return normaliseLikeMnist(grey, what);
}

function toGrey(png: PNG): Grey {
  const { width, height, data } = png;
  const out = new Float64Array(width * height);
  for (let i = 0; i < out.length; i++) {
    const r = data[4 * i]!;
    const g = data[4 * i + 1]!;
    const b = data[4 * i + 2]!;
    const a = data[4 * i + 3]! / 255;
    const lum = (0.299 * r + 0.587 * g + 0.114 * b) / 255;
    out[i] = a * lum + (1 - a); // over white
  }
  return { width, height, data: out };
}

function borderMean(g: Grey): number {
  let sum = 0;
  let n = 0;
  for (let y = 0; y < g.height; y++) {
    for (let x = 0; x < g.width; x++) {
      if (y === 0 || x === 0 || y === g.height - 1 || x === g.width - 1) {
        sum += g.data[y * g.width + x]!;
        n++;
      }
    }
  }
  return sum / n;
}

/** Crop to the ink, fit in 20×20 by area averaging, centre by centre of mass in 28×28. */
function normaliseLikeMnist(g: Grey, what: string): Float64Array {
  let x0 = g.width;
  let y0 = g.height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < g.height; y++) {
    for (let x = 0; x < g.width; x++) {
      if (g.data[y * g.width + x]! > INK) {
        x0 = Math.min(x0, x);
        x1 = Math.max(x1, x);
        y0 = Math.min(y0, y);
        y1 = Math.max(y1, y);
      }
    }
  }
  if (x1 < 0) throw new InputError(`${what}: no digit found (the image is blank after converting to light-on-dark grey)`);
  const w = x1 - x0 + 1;
  const h = y1 - y0 + 1;
  const f = BOX / Math.max(w, h);
  const tw = Math.max(1, Math.round(w * f));
  const th = Math.max(1, Math.round(h * f));
  const small = resizeArea(g, x0, y0, w, h, tw, th);
  // centre of mass of the resized digit goes to the centre of the 28×28 field
  let mass = 0;
  let cx = 0;
  let cy = 0;
  for (let y = 0; y < th; y++) {
    for (let x = 0; x < tw; x++) {
      const v = small[y * tw + x]!;
      mass += v;
      cx += v * (x + 0.5);
      cy += v * (y + 0.5);
    }
  }
  const ox = Math.round(DIGIT_SIDE / 2 - cx / mass);
  const oy = Math.round(DIGIT_SIDE / 2 - cy / mass);
  const out = new Float64Array(DIGIT_SIDE * DIGIT_SIDE);
  for (let y = 0; y < th; y++) {
    for (let x = 0; x < tw; x++) {
      const X = x + ox;
      const Y = y + oy;
      if (X >= 0 && X < DIGIT_SIDE && Y >= 0 && Y < DIGIT_SIDE) out[Y * DIGIT_SIDE + X] = small[y * tw + x]!;
    }
  }
  return out;
}

/** Area-average resampling of the w×h window at (x0, y0) to tw×th (each output pixel averages the source area it covers). */
function resizeArea(g: Grey, x0: number, y0: number, w: number, h: number, tw: number, th: number): Float64Array {
  const out = new Float64Array(tw * th);
  const sx = w / tw;
  const sy = h / th;
  for (let ty = 0; ty < th; ty++) {
    const ya = ty * sy;
    const yb = ya + sy;
    for (let tx = 0; tx < tw; tx++) {
      const xa = tx * sx;
      const xb = xa + sx;
      let sum = 0;
      for (let y = Math.floor(ya); y < Math.ceil(yb); y++) {
        const wy = Math.min(yb, y + 1) - Math.max(ya, y);
        for (let x = Math.floor(xa); x < Math.ceil(xb); x++) {
          const wx = Math.min(xb, x + 1) - Math.max(xa, x);
          sum += wx * wy * g.data[(y0 + y) * g.width + (x0 + x)]!;
        }
      }
      out[ty * tw + tx] = Math.min(1, sum / (sx * sy));
    }
  }
  return out;
}
