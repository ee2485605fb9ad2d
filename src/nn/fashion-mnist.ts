/**
 * Fashion-MNIST (Xiao, Rasul, Vollgraf 2017; Zalando, MIT licence): 28×28 grey images of ten kinds of clothing, a
 * harder drop-in for MNIST. Two built-in sources (docs/data.md):
 *
 * - `fashion-mnist`: the official 10,000 test images, vendored in data/fashion-mnist/ (4.4 MB, with the licence),
 *   so tests and the main job need nothing else. Split exactly like pann's MNIST: the same seed, 8000 / 1000 /
 *   1000, validation and test stratified by class.
 * - `fashion-mnist-full`: the official 60,000 training and 10,000 test images, read from a folder holding the four
 *   IDX files (gzip or raw; Debian's package `dataset-fashion-mnist` installs them in
 *   /usr/share/datasets/fashion-mnist, the default). Train: the 60,000 minus a stratified, seeded 5,000 for
 *   validation; test: the official 10,000.
 *
 * Files are checked as they are read: IDX headers, 28×28 images, the counts, labels 0–9; the error names the file.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DataError } from '../errors.js';
import { makeDataset, stratifiedSplitIndices, subsetDataset, type Dataset, type SplitPart } from './dataset.js';
import { loadIdxDataset } from './idx.js';
import { MNIST_SPLIT_SEED, MNIST_SPLIT_SIZES } from './mnist.js';

/** The ten classes, by label. */
export const FASHION_MNIST_CLASSES: readonly string[] = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];

/** Where Debian's `dataset-fashion-mnist` puts the IDX files (the default folder of `fashion-mnist-full`). */
export const FASHION_MNIST_DEBIAN_DIR = '/usr/share/datasets/fashion-mnist';

/** The official file names (each may also be uncompressed, without .gz). */
const FILES = {
  train: ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz'],
  test: ['t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'],
} as const;
const COUNTS = { train: 60000, test: 10000 } as const;

/** Validation images held out of the official 60,000 by `fashion-mnist-full`, stratified and seeded. */
export const FASHION_FULL_VALIDATION = 5000;

/** The vendored folder (data/fashion-mnist), found from this module's place in src/ or dist/src/. */
export function vendoredFashionDir(): string {
  for (let up = 2; up <= 3; up++) {
    const dir = fileURLToPath(new URL(`${'../'.repeat(up)}data/fashion-mnist/`, import.meta.url));
    if (existsSync(join(dir, FILES.test[0]))) return dir;
  }
  throw new DataError('data/fashion-mnist/ (the vendored Fashion-MNIST test images) is missing from this installation');
}

/** A file of the official set in `dir`: the .gz name, or the same name uncompressed. */
function officialFile(dir: string, name: string): string {
  const gz = join(dir, name);
  if (existsSync(gz)) return gz;
  const raw = gz.replace(/\.gz$/, '');
  if (existsSync(raw)) return raw;
  throw new DataError(
    `${dir}: no ${name} (or ${name.replace(/\.gz$/, '')}); fashion-mnist-full reads the four official IDX files ` +
      `from this folder (Debian: apt install dataset-fashion-mnist puts them in ${FASHION_MNIST_DEBIAN_DIR})`,
  );
}

const cache = new Map<string, Dataset>();

/** One official part (train or test) from `dir`, checked: count, 28×28 images, labels 0–9; read once. */
function officialPart(dir: string, part: 'train' | 'test', name: string): Dataset {
  const key = `official:${dir}:${part}`;
  let ds = cache.get(key);
  if (!ds) cache.set(key, (ds = readOfficialPart(dir, part)));
  return { ...ds, name };
}

function readOfficialPart(dir: string, part: 'train' | 'test'): Dataset {
  const [images, labels] = FILES[part].map((f) => officialFile(dir, f)) as [string, string];
  const ds = loadIdxDataset(images, labels, { classes: 10 });
  if (ds.count !== COUNTS[part]) throw new DataError(`${images}: ${ds.count} images, the official ${part} set has ${COUNTS[part]}`);
  if (ds.inputShape.join('×') !== '1×28×28') {
    throw new DataError(`${images}: images of shape [${ds.inputShape.join(', ')}], Fashion-MNIST's are [1, 28, 28]`);
  }
  return ds;
}

/** The 10,000 vendored test images (official test-set order), values 0–1. */
export function loadFashionMnistAll(): Dataset {
  let ds = cache.get('all');
  if (!ds) cache.set('all', (ds = officialPart(vendoredFashionDir(), 'test', 'fashion-mnist:all')));
  return ds;
}

/** A part of `fashion-mnist`: the vendored 10,000 split like MNIST (seed 20240601, 8000 / 1000 / 1000). */
export function loadFashionMnistSplit(part: SplitPart): Dataset {
  const key = `split:${part}`;
  let ds = cache.get(key);
  if (!ds) {
    const all = loadFashionMnistAll();
    const { validation, test } = MNIST_SPLIT_SIZES;
    const idx = stratifiedSplitIndices(all.labels, 10, { validation, test }, MNIST_SPLIT_SEED);
    for (const p of ['train', 'validation', 'test'] as const) cache.set(`split:${p}`, subsetDataset(all, idx[p], `fashion-mnist:${p}`));
    ds = cache.get(key)!;
  }
  return ds;
}

/**
 * A part of `fashion-mnist-full` from `dir` (default Debian's folder): train = the official 60,000 minus a seeded,
 * stratified 5,000 (validation); test = the official 10,000; all = the 70,000 (train set first).
 */
export function loadFashionMnistFull(part: SplitPart | 'all', dir: string = FASHION_MNIST_DEBIAN_DIR): Dataset {
  const key = `full:${dir}:${part}`;
  const hit = cache.get(key);
  if (hit) return hit;
  let ds: Dataset;
  if (part === 'test') ds = officialPart(dir, 'test', 'fashion-mnist-full:test');
  else if (part === 'all') {
    const [train, test] = [officialPart(dir, 'train', 'train'), officialPart(dir, 'test', 'test')];
    const inputs = new Float64Array(train.inputs.length + test.inputs.length);
    inputs.set(train.inputs);
    inputs.set(test.inputs, train.inputs.length);
    const labels = new Int32Array(train.count + test.count);
    labels.set(train.labels);
    labels.set(test.labels, train.count);
    ds = makeDataset('fashion-mnist-full:all', inputs, labels, [1, 28, 28], 10);
  } else {
    const train = officialPart(dir, 'train', 'fashion-mnist-full:train+validation');
    const idx = stratifiedSplitIndices(train.labels, 10, { validation: FASHION_FULL_VALIDATION, test: 0 }, MNIST_SPLIT_SEED);
    ds = subsetDataset(train, part === 'train' ? idx.train : idx.validation, `fashion-mnist-full:${part}`);
  }
  cache.set(key, ds);
  return ds;
}
