import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { argmax, predict } from '../../src/nn/inference.js';
import { loadMnistSplit } from '../../src/nn/mnist.js';
import { loadModel } from '../../src/nn/model-file.js';
import { digitFromPng } from '../../src/server/digit-image.js';

const test = loadMnistSplit('test');
const digit = (i: number) => test.inputs.subarray(i * 784, (i + 1) * 784);

/** A PNG of an MNIST digit, `scale`× enlarged (nearest), rendered by `pixel(value) → [r, g, b, a]`, with a margin. */
function png(values: ArrayLike<number>, scale: number, pixel: (v: number) => number[], margin = 0, colorType: 0 | 2 | 6 = 6): Buffer {
  const side = 28 * scale + 2 * margin;
  const p = new PNG({ width: side, height: side, colorType });
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const sx = Math.floor((x - margin) / scale);
      const sy = Math.floor((y - margin) / scale);
      const v = sx >= 0 && sx < 28 && sy >= 0 && sy < 28 ? values[sy * 28 + sx]! : 0;
      p.data.set(pixel(v).map(Math.round), 4 * (y * side + x));
    }
  }
  return PNG.sync.write(p, { colorType });
}

function correlation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i]!;
    mb += b[i]!;
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i]! - ma) * (b[i]! - mb);
    saa += (a[i]! - ma) ** 2;
    sbb += (b[i]! - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

describe('PNG digits', () => {
  it('a 28×28 grey PNG of a test digit gives back its values (to 8-bit rounding)', () => {
    const out = digitFromPng(png(digit(0), 1, (v) => [255 * v, 255 * v, 255 * v, 255], 0, 0));
    expect(out.length).toBe(784);
    out.forEach((v, i) => expect(Math.abs(v - digit(0)[i]!)).toBeLessThanOrEqual(0.5 / 255 + 1e-12));
  });

  it("dark ink on white paper and ink on a transparent background are inverted to MNIST's light-on-dark", () => {
    const paper = digitFromPng(png(digit(1), 1, (v) => [255 * (1 - v), 255 * (1 - v), 255 * (1 - v), 255]));
    const transparent = digitFromPng(png(digit(1), 1, (v) => [0, 0, 0, 255 * v]));
    for (const out of [paper, transparent]) out.forEach((v, i) => expect(Math.abs(v - digit(1)[i]!)).toBeLessThan(1 / 255 + 1e-9));
  });

  it('colour is converted by luminance', () => {
    const red = digitFromPng(png(digit(2), 1, (v) => [255 * v, 0, 0, 255], 0, 2));
    red.forEach((v, i) => expect(Math.abs(v - 0.299 * digit(2)[i]!)).toBeLessThan(1 / 255));
  });

  it('a large scan-like image is MNIST-normalised (20×20 box, centre of mass): the model classifies it as the digit', () => {
    const model = loadModel('models/mnist-mlp-relu.json');
    const n = 20;
    let agree = 0;
    for (let i = 0; i < n; i++) {
      const big = digitFromPng(png(digit(i), 5, (v) => [255 * (1 - v), 255 * (1 - v), 255 * (1 - v), 255], 37));
      expect(correlation(big, digit(i))).toBeGreaterThan(0.4); // re-centred and resampled, not identical
      if (argmax(predict(model, big), 10)[0] === argmax(predict(model, digit(i)), 10)[0]) agree++;
    }
    expect(agree).toBeGreaterThanOrEqual(n - 1);
  });

  it('names what is wrong: not a PNG, a blank image', () => {
    expect(() => digitFromPng(new TextEncoder().encode('hello, not an image at all'))).toThrow(/cannot decode the PNG: not a PNG file/);
    expect(() => digitFromPng(png(new Float64Array(784), 2, () => [255, 255, 255, 255]))).toThrow(/no digit found/);
    expect(() => digitFromPng(new Uint8Array(5))).toThrow(InputError);
  });
});
