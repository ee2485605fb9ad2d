/**
 * The one shape every data source takes (the MNIST split, IDX files, CSV files): a labelled set of inputs
 * stored back to back in one Float64Array, in the model's input layout (C-H-W for images).
 */
import { DataError } from '../errors.js';
import { formatShape, shapeSize, type Model, type Shape } from './model.js';
import { Prng } from './prng.js';

/** Labelled inputs, back to back, with their shape and class count. */
export interface Dataset {
  /** Where it came from, e.g. `mnist:test` or a file path. */
  readonly name: string;
  /** count × prod(inputShape), row-major. */
  readonly inputs: Float64Array;
  /** Class of each input, in [0, classes). */
  readonly labels: Int32Array;
  readonly count: number;
  readonly inputShape: Shape;
  /** Number of classes (labels are below it). */
  readonly classes: number;
}

/** Build a dataset, checking sizes, finiteness and labels; errors name the bad sample. */
export function makeDataset(name: string, inputs: Float64Array, labels: Int32Array, inputShape: Shape, classes?: number): Dataset {
  const size = shapeSize(inputShape);
  if (!inputShape.length || inputShape.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new DataError(`${name}: invalid input shape ${formatShape(inputShape)}`);
  }
  const count = labels.length;
  if (inputs.length !== count * size) {
    throw new DataError(`${name}: ${count} labels need ${count * size} input values (${size} each), got ${inputs.length}`);
  }
  for (let i = 0; i < inputs.length; i++) {
    if (!Number.isFinite(inputs[i]!)) {
      throw new DataError(`${name}: sample ${Math.floor(i / size)} value ${i % size} is ${inputs[i]}, not a finite number`);
    }
  }
  let maxLabel = -1;
  for (let i = 0; i < count; i++) {
    const l = labels[i]!;
    if (l < 0) throw new DataError(`${name}: sample ${i} has negative label ${l}`);
    if (l > maxLabel) maxLabel = l;
  }
  const k = classes ?? maxLabel + 1;
  if (maxLabel >= k) throw new DataError(`${name}: label ${maxLabel} is not below the number of classes ${k}`);
  return { name, inputs, labels, count, inputShape: [...inputShape], classes: k };
}

/** The samples at `indices`, in that order. */
export function subsetDataset(ds: Dataset, indices: ArrayLike<number>, name = ds.name): Dataset {
  const size = shapeSize(ds.inputShape);
  const inputs = new Float64Array(indices.length * size);
  const labels = new Int32Array(indices.length);
  for (let j = 0; j < indices.length; j++) {
    const i = indices[j]!;
    if (!Number.isInteger(i) || i < 0 || i >= ds.count) throw new DataError(`${name}: index ${i} out of range 0..${ds.count - 1}`);
    inputs.set(ds.inputs.subarray(i * size, (i + 1) * size), j * size);
    labels[j] = ds.labels[i]!;
  }
  return { name, inputs, labels, count: indices.length, inputShape: ds.inputShape, classes: ds.classes };
}

/** The first `count` samples (or all of them). */
export function headDataset(ds: Dataset, count: number): Dataset {
  if (count >= ds.count) return ds;
  const size = shapeSize(ds.inputShape);
  return {
    ...ds,
    name: `${ds.name}[0:${count}]`,
    count,
    inputs: ds.inputs.subarray(0, count * size),
    labels: ds.labels.subarray(0, count),
  };
}

/**
 * Check that a dataset can feed a model: same number of values per input (a flat dataset feeds an image model of
 * the same size, and the other way round) and a model output wide enough for every label.
 */
export function checkDatasetFitsModel(ds: Dataset, model: Model, outputWidth: number): void {
  const want = shapeSize(model.inputShape);
  const have = shapeSize(ds.inputShape);
  if (want !== have) {
    throw new DataError(
      `${ds.name}: inputs of shape ${formatShape(ds.inputShape)} (${have} values) do not fit model '${model.name}' ` +
        `with input shape ${formatShape(model.inputShape)} (${want} values)`,
    );
  }
  if (ds.classes > outputWidth) {
    throw new DataError(`${ds.name}: has ${ds.classes} classes but model '${model.name}' outputs ${outputWidth} values`);
  }
}

/** The three parts of a seeded split (pann's MNIST split, or one of your own data). */
export type SplitPart = 'train' | 'validation' | 'test';

/** Largest-remainder quotas: `total` spread over classes in proportion to their sizes (ties to the lower class). */
export function stratifiedQuotas(perClass: readonly number[], total: number): number[] {
  const all = perClass.reduce((a, b) => a + b, 0);
  const exact = perClass.map((n) => (n * total) / all);
  const quotas = exact.map(Math.floor);
  let left = total - quotas.reduce((a, b) => a + b, 0);
  const order = exact.map((e, c) => ({ c, r: e - Math.floor(e) })).sort((a, b) => b.r - a.r || a.c - b.c);
  for (const { c } of order) {
    if (left-- <= 0) break;
    quotas[c]!++;
  }
  return quotas;
}

/**
 * Indices of a seeded, stratified train/validation/test split (docs/data.md): validation and test quotas per class
 * by {@link stratifiedQuotas}; one PRNG; for each class in label order, shuffle that class's samples (in dataset
 * order), take its validation quota, then its test quota, the rest is train; finally shuffle each part's list.
 */
export function stratifiedSplitIndices(
  labels: ArrayLike<number>,
  classes: number,
  sizes: { validation: number; test: number },
  seed: number,
): Record<SplitPart, Int32Array> {
  const byClass: number[][] = Array.from({ length: classes }, () => []);
  for (let i = 0; i < labels.length; i++) byClass[labels[i]!]!.push(i);
  const perClass = byClass.map((c) => c.length);
  const rng = new Prng(seed);
  const vq = stratifiedQuotas(perClass, sizes.validation);
  const tq = stratifiedQuotas(perClass, sizes.test);
  const split: Record<SplitPart, number[]> = { train: [], validation: [], test: [] };
  byClass.forEach((members, c) => {
    const idx = rng.shuffle(members);
    split.validation.push(...idx.slice(0, vq[c]));
    split.test.push(...idx.slice(vq[c], vq[c]! + tq[c]!));
    split.train.push(...idx.slice(vq[c]! + tq[c]!));
  });
  return {
    train: Int32Array.from(rng.shuffle(split.train)),
    validation: Int32Array.from(rng.shuffle(split.validation)),
    test: Int32Array.from(rng.shuffle(split.test)),
  };
}
