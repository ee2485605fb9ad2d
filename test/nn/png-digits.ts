/** Test data: real MNIST digits written as a folder of labelled PNG images, <dir>/<label>/<n>.png. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { loadMnistSplit } from '../../src/nn/mnist.js';

/** A PNG of `width`×`height` pixels from RGBA values per pixel. */
export function pngBytes(width: number, height: number, rgba: (i: number) => [number, number, number, number]): Buffer {
  const png = new PNG({ width, height });
  for (let i = 0; i < width * height; i++) png.data.set(rgba(i), 4 * i);
  return PNG.sync.write(png);
}

/** The first `perClass` digits of each class of the MNIST test split as grey PNGs; returns their values (0..1, as written). */
export function writeDigitFolder(dir: string, perClass: number): { inputs: number[][]; labels: number[] } {
  const test = loadMnistSplit('test');
  const taken = new Array<number>(10).fill(0);
  const out: { inputs: number[][]; labels: number[] } = { inputs: [], labels: [] };
  for (let i = 0; i < test.count && out.labels.length < 10 * perClass; i++) {
    const label = test.labels[i]!;
    if (taken[label]! >= perClass) continue;
    taken[label]!++;
    const grey = Array.from(test.inputs.subarray(i * 784, (i + 1) * 784), (v) => Math.round(v * 255));
    mkdirSync(join(dir, String(label)), { recursive: true });
    writeFileSync(
      join(dir, String(label), `${String(i).padStart(4, '0')}.png`),
      pngBytes(28, 28, (p) => [grey[p]!, grey[p]!, grey[p]!, 255]),
    );
    out.inputs.push(grey.map((v) => v / 255));
    out.labels.push(label);
  }
  return out;
}
