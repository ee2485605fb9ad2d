/**
 * Classification metrics of a model on a dataset: accuracy, mean cross-entropy, confusion matrix, per-class accuracy.
 */
import { checkDatasetFitsModel, type Dataset } from './dataset.js';
import { argmax, predictWithStats, type NonlinearInputStats, type PredictOptions } from './inference.js';
import { oneHot, softmaxCrossEntropy } from './loss.js';
import type { Model } from './model.js';
import { Network } from './network.js';

export interface ClassMetrics {
  label: number;
  count: number;
  correct: number;
  /** correct / count (NaN when the class has no samples). */
  accuracy: number;
}

export interface Evaluation {
  dataset: string;
  count: number;
  correct: number;
  accuracy: number;
  /** Mean softmax cross-entropy. */
  loss: number;
  /** confusion[true][predicted] counts. */
  confusion: number[][];
  perClass: ClassMetrics[];
  /** Input statistics of every activation/polynomial layer over the dataset. */
  stats: NonlinearInputStats[];
}

/** Metrics from logits (count × classes) and labels. */
export function scoreLogits(logits: Float64Array, labels: Int32Array, classes: number, dataset = ''): Omit<Evaluation, 'stats'> {
  const count = labels.length;
  const pred = argmax(logits, classes);
  const confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  let correct = 0;
  for (let i = 0; i < count; i++) {
    confusion[labels[i]!]![pred[i]!]!++;
    if (pred[i] === labels[i]) correct++;
  }
  const targets = oneHot(labels, count, classes, new Float64Array(count * classes));
  const loss = softmaxCrossEntropy(logits, count, classes, targets, null);
  const perClass = confusion.map((row, label) => {
    const n = row.reduce((a, b) => a + b, 0);
    return { label, count: n, correct: row[label]!, accuracy: n ? row[label]! / n : NaN };
  });
  return { dataset, count, correct, accuracy: count ? correct / count : NaN, loss, confusion, perClass };
}

/** Evaluate a classifier on a dataset (reference float64 inference). */
export function evaluateModel(model: Model, ds: Dataset, options: PredictOptions = {}): Evaluation {
  const width = new Network(model).outputSize;
  checkDatasetFitsModel(ds, model, width);
  const r = predictWithStats(model, ds.inputs, options);
  return { ...scoreLogits(r.logits, ds.labels, r.classes, ds.name), stats: r.stats };
}
