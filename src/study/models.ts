/**
 * The study's trained networks: each model file loaded once per thread, with its content hash (part of every
 * cell's cache key), its activation names (for the grid's pruning) and its float predictions on the measured
 * split (the reference the PANN's accuracy loss and agreement are taken against).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { StudyError, errorMessage } from '../errors.js';
import { type DataSpec, loadDataPart } from '../nn/data-source.js';
import { type Dataset, headDataset } from '../nn/dataset.js';
import { argmax, predict } from '../nn/inference.js';
import { loadMnistSplit } from '../nn/mnist.js';
import { parseModel } from '../nn/model-file.js';
import { formatShape, type Model, shapeSize } from '../nn/model.js';
import type { ModelFacts } from './grid.js';

export interface StudyModelData {
  path: string;
  model: Model;
  /** sha256 of the file's bytes (hex). */
  hash: string;
  facts: ModelFacts;
}

export interface FloatReference {
  predictions: Int32Array;
  correct: number;
  accuracy: number;
}

/** Activation names of a model's activation layers (polynomial layers count as the activation they stand in for). */
export function activationNames(model: Model): string[] {
  return model.layers.flatMap((l) => {
    if (l.type === 'activation') return [l.activation.name];
    if (l.type === 'polynomial') return [l.approximation.activation.split(':')[0]!];
    return [];
  });
}

/** Float predictions of a model (its own layers, polynomial or not) on a dataset, and its accuracy. */
export function floatReference(model: Model, ds: Dataset): FloatReference {
  const predictions = argmax(predict(model, ds.inputs), ds.classes);
  let correct = 0;
  for (let i = 0; i < ds.count; i++) if (predictions[i] === ds.labels[i]) correct++;
  return { predictions, correct, accuracy: correct / ds.count };
}

/** Per-thread cache of models, data splits and float references. */
export class StudyModels {
  readonly #baseDir: string;
  readonly #data: DataSpec | undefined;
  readonly #models = new Map<string, StudyModelData>();
  readonly #references = new Map<string, FloatReference>();

  /** `baseDir`: where relative model paths start (the grid file's directory); `data`: your own data (default MNIST). */
  constructor(baseDir: string, data?: DataSpec) {
    this.#baseDir = baseDir;
    this.#data = data;
  }

  resolvePath(path: string): string {
    return isAbsolute(path) ? path : resolve(this.#baseDir, path);
  }

  /** Load (once) a model file; errors name the file. */
  get(path: string): StudyModelData {
    const hit = this.#models.get(path);
    if (hit) return hit;
    const file = this.resolvePath(path);
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch (err) {
      throw new StudyError(`model ${path}: cannot read ${file}: ${errorMessage(err)}`, { cause: err });
    }
    let model: Model;
    try {
      model = parseModel(bytes.toString('utf8'), path);
    } catch (err) {
      throw new StudyError(`model ${path}: ${errorMessage(err)}`, { cause: err });
    }
    const activations = activationNames(model);
    if (activations.length === 0) {
      throw new StudyError(`model ${path} (${model.name}) has no activation layers: there is no precision to study`);
    }
    if (this.#data) {
      const own = loadDataPart(this.#data, 'all');
      if (shapeSize(own.inputShape) !== shapeSize(model.inputShape)) {
        throw new StudyError(
          `model ${path} takes ${formatShape(model.inputShape)} inputs (${shapeSize(model.inputShape)} values), ` +
            `the data ${own.name} has ${formatShape(own.inputShape)} (${shapeSize(own.inputShape)} values)`,
        );
      }
    } else if (shapeSize(model.inputShape) !== 784) {
      throw new StudyError(
        `model ${path} takes ${shapeSize(model.inputShape)} inputs: the study's calibration and test splits are MNIST digits (784 inputs); ` +
          'there is no calibration split for this model',
      );
    }
    const data: StudyModelData = { path, model, hash: createHash('sha256').update(bytes).digest('hex'), facts: { activations } };
    this.#models.set(path, data);
    return data;
  }

  /** The first `count` samples of a part of the split (MNIST's, or your own data's). */
  split(name: 'train' | 'validation' | 'test', count: number): Dataset {
    return headDataset(this.#data ? loadDataPart(this.#data, name) : loadMnistSplit(name), count);
  }

  /** Float predictions of a model on the first `count` digits of a split (cached per model and split). */
  reference(path: string, split: 'test' | 'validation', count: number): FloatReference {
    const key = `${path}|${split}|${count}`;
    const hit = this.#references.get(key);
    if (hit) return hit;
    const ref = floatReference(this.get(path).model, this.split(split, count));
    this.#references.set(key, ref);
    return ref;
  }
}
