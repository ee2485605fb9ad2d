/**
 * Mini-batch training with softmax cross-entropy: SGD+momentum or Adam, a learning-rate schedule, L2 weight decay,
 * Mixup, image augmentation, early stopping on a validation set (restoring the best epoch), a range penalty for
 * polynomial layers, and progress through a callback. Deterministic for a given seed.
 */
import { TrainError } from '../errors.js';
import { augmentBatch, augmentationEnabled, type AugmentOptions } from './augment.js';
import { checkDatasetFitsModel, type Dataset } from './dataset.js';
import { oneHot, softmaxCrossEntropy } from './loss.js';
import { mixupBatch } from './mixup.js';
import { cloneModel, type Model } from './model.js';
import { Network } from './network.js';
import { createOptimizer, type OptimizerName } from './optimizer.js';
import { Prng } from './prng.js';
import { learningRateAt, type ScheduleOptions } from './schedule.js';

export interface TrainProgress {
  phase: 'batch' | 'epoch';
  /** 0-based epoch. */
  epoch: number;
  epochs: number;
  /** Batches done in this epoch. */
  batch: number;
  batches: number;
  /** Running mean training loss (cross-entropy + range penalty) of this epoch so far. */
  loss: number;
  /** Running training accuracy of this epoch so far (against the un-mixed labels). */
  accuracy: number;
  learningRate: number;
  /** End of epoch, with a validation set. */
  validationLoss?: number;
  validationAccuracy?: number;
}

export interface EpochRecord {
  epoch: number;
  loss: number;
  accuracy: number;
  learningRate: number;
  validationLoss?: number;
  validationAccuracy?: number;
  seconds: number;
}

export interface TrainOptions {
  /** @default 10 */
  epochs?: number;
  /** @default 64 */
  batchSize?: number;
  /** Base learning rate. @default 1e-3 */
  learningRate?: number;
  /** @default 'adam' */
  optimizer?: OptimizerName;
  /** SGD momentum. @default 0.9 */
  momentum?: number;
  /** L2 weight decay on dense/conv weights. @default 0 */
  weightDecay?: number;
  /** Clip the global gradient norm (0 = off). @default 0 */
  maxGradNorm?: number;
  /** Learning-rate schedule. @default { name: 'cosine' } */
  schedule?: ScheduleOptions;
  /** Mixup α (0 = off). @default 0 */
  mixupAlpha?: number;
  /** Image augmentation (needs a [C, H, W] model input). @default none */
  augment?: AugmentOptions;
  /** Validation set, evaluated after every epoch. @default none */
  validation?: Dataset;
  /** Stop after this many epochs without a better validation accuracy (0 = never). @default 0 */
  patience?: number;
  /** With a validation set: return the weights of the best validation epoch. @default true */
  restoreBest?: boolean;
  /** Seed of shuffling, dropout, augmentation and Mixup. @default 1 */
  seed?: number;
  /** λ of the polynomial-layer range penalty λ·Σ dist(x, [−B, B])²/n. @default 0 */
  rangePenalty?: number;
  /**
   * Knowledge distillation: the targets become (1 − weight)·labels + weight·softmax(teacher(x)/temperature), the
   * teacher seeing the same (augmented) batch. @default none
   */
  teacher?: { model: Model; weight: number; temperature: number };
  onProgress?: (p: TrainProgress) => void;
}

export interface TrainResult {
  /** The trained model (a new object; the input model is not modified). */
  model: Model;
  history: EpochRecord[];
  /** Epoch whose weights were kept (the last one without validation). */
  bestEpoch: number;
  stoppedEarly: boolean;
  seconds: number;
}

function checkNumber(name: string, v: number, ok: boolean): void {
  if (!ok || !Number.isFinite(v)) throw new TrainError(`${name} is out of range: ${v}`);
}

/** Mean loss and accuracy of a network on a dataset (inference mode). */
export function networkScore(net: Network, ds: Dataset, batchSize = 256): { loss: number; accuracy: number } {
  const classes = net.outputSize;
  let loss = 0;
  let correct = 0;
  const targets = new Float64Array(batchSize * classes);
  for (let s = 0; s < ds.count; s += batchSize) {
    const n = Math.min(batchSize, ds.count - s);
    const labels = ds.labels.subarray(s, s + n);
    const logits = net.forward(ds.inputs.subarray(s * net.inputSize, (s + n) * net.inputSize), n);
    oneHot(labels, n, classes, targets);
    loss += softmaxCrossEntropy(logits, n, classes, targets, null) * n;
    correct += countCorrect(logits, labels, n, classes);
  }
  return { loss: loss / ds.count, accuracy: correct / ds.count };
}

/** targets ← (1 − w)·targets + w·softmax(teacher(x)/T), row by row. */
function blendTeacher(
  teacher: Network,
  x: Float64Array,
  n: number,
  classes: number,
  t: { weight: number; temperature: number },
  targets: Float64Array,
): void {
  const logits = teacher.forward(x.subarray(0, n * teacher.inputSize), n);
  for (let r = 0; r < n; r++) {
    const row = r * classes;
    let max = -Infinity;
    for (let c = 0; c < classes; c++) max = Math.max(max, logits[row + c]! / t.temperature);
    // exponentials in place in the teacher's logits (not read again), then the blend
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += logits[row + c] = Math.exp(logits[row + c]! / t.temperature - max);
    for (let c = 0; c < classes; c++) targets[row + c] = (1 - t.weight) * targets[row + c]! + (t.weight * logits[row + c]!) / sum;
  }
}

function countCorrect(logits: Float64Array, labels: ArrayLike<number>, n: number, classes: number): number {
  let correct = 0;
  for (let r = 0; r < n; r++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (logits[r * classes + c]! > logits[r * classes + best]!) best = c;
    if (best === labels[r]) correct++;
  }
  return correct;
}

/** Train a copy of `model` on `data`. */
export function trainModel(model: Model, data: Dataset, options: TrainOptions = {}): TrainResult {
  const {
    epochs = 10,
    batchSize = 64,
    learningRate = 1e-3,
    optimizer = 'adam',
    momentum = 0.9,
    weightDecay = 0,
    maxGradNorm = 0,
    schedule = { name: 'cosine' },
    mixupAlpha = 0,
    augment,
    validation,
    patience = 0,
    restoreBest = true,
    seed = 1,
    rangePenalty = 0,
    teacher,
    onProgress,
  } = options;
  checkNumber('epochs', epochs, Number.isInteger(epochs) && epochs >= 1);
  checkNumber('batchSize', batchSize, Number.isInteger(batchSize) && batchSize >= 1);
  checkNumber('learningRate', learningRate, learningRate > 0);
  checkNumber('mixupAlpha', mixupAlpha, mixupAlpha >= 0);
  checkNumber('patience', patience, Number.isInteger(patience) && patience >= 0);
  checkNumber('rangePenalty', rangePenalty, rangePenalty >= 0);
  if (teacher) {
    checkNumber('teacher weight', teacher.weight, teacher.weight >= 0 && teacher.weight <= 1);
    checkNumber('teacher temperature', teacher.temperature, teacher.temperature > 0);
  }

  const start = Date.now();
  const trained = cloneModel(model);
  const net = new Network(trained);
  const classes = net.outputSize;
  checkDatasetFitsModel(data, trained, classes);
  if (validation) checkDatasetFitsModel(validation, trained, classes);
  const augmenting = augmentationEnabled(augment);
  if (augmenting && trained.inputShape.length !== 3) {
    throw new TrainError(
      `augmentation needs an image model input [C, H, W], model '${trained.name}' takes [${trained.inputShape.join(', ')}]`,
    );
  }
  const params = net.params();
  if (params.length === 0) throw new TrainError(`model '${trained.name}' has no trainable parameters`);
  const opt = createOptimizer(params, { name: optimizer, momentum, weightDecay, maxGradNorm });
  const rng = new Prng(seed);
  const size = net.inputSize;
  const bs = Math.min(batchSize, data.count);
  const batches = Math.ceil(data.count / bs);
  const order = Int32Array.from({ length: data.count }, (_, i) => i);
  const xb = new Float64Array(bs * size);
  const xa = new Float64Array(bs * size);
  const scratch = new Float64Array(bs * size);
  const labels = new Int32Array(bs);
  const targets = new Float64Array(bs * classes);
  const teacherNet = teacher && teacher.weight > 0 ? new Network(teacher.model) : null;
  if (teacherNet && (teacherNet.inputSize !== net.inputSize || teacherNet.outputSize !== classes)) {
    throw new TrainError(
      `teacher '${teacher!.model.name}' maps ${teacherNet.inputSize} → ${teacherNet.outputSize}, the model ${net.inputSize} → ${classes}`,
    );
  }
  const dLogits = new Float64Array(bs * classes);

  const history: EpochRecord[] = [];
  let best: { epoch: number; accuracy: number; loss: number; values: Float64Array[] } | null = null;
  let sinceBest = 0;
  let stoppedEarly = false;

  for (let epoch = 0; epoch < epochs; epoch++) {
    const t0 = Date.now();
    rng.shuffle(order);
    let lossSum = 0;
    let correct = 0;
    let seen = 0;
    let lr = learningRate;
    for (let b = 0; b < batches; b++) {
      const n = Math.min(bs, data.count - b * bs);
      for (let j = 0; j < n; j++) {
        const i = order[b * bs + j]!;
        xb.set(data.inputs.subarray(i * size, (i + 1) * size), j * size);
        labels[j] = data.labels[i]!;
      }
      let x = xb;
      if (augmenting) {
        augmentBatch(xb, n, trained.inputShape, augment!, rng, xa);
        x = xa;
      }
      oneHot(labels, n, classes, targets);
      if (mixupAlpha > 0) mixupBatch(x, targets, n, size, classes, mixupAlpha, rng, scratch);
      if (teacherNet) blendTeacher(teacherNet, x, n, classes, teacher!, targets);
      net.zeroGrad();
      const logits = net.forward(x.subarray(0, n * size), n, { training: true, rng, rangePenalty });
      const loss = softmaxCrossEntropy(logits, n, classes, targets, dLogits) + net.penalty();
      if (!Number.isFinite(loss)) {
        throw new TrainError(`training diverged (loss ${loss}) at epoch ${epoch + 1} batch ${b + 1}; lower the learning rate (now ${lr})`);
      }
      correct += countCorrect(logits, labels, n, classes);
      net.backward(dLogits.subarray(0, n * classes), n);
      lr = learningRateAt(learningRate, epoch + b / batches, epochs, schedule);
      opt.step(lr);
      net.sync();
      lossSum += loss * n;
      seen += n;
      onProgress?.({
        phase: 'batch',
        epoch,
        epochs,
        batch: b + 1,
        batches,
        loss: lossSum / seen,
        accuracy: correct / seen,
        learningRate: lr,
      });
    }
    const record: EpochRecord = { epoch, loss: lossSum / seen, accuracy: correct / seen, learningRate: lr, seconds: 0 };
    if (validation) {
      const v = networkScore(net, validation);
      record.validationLoss = v.loss;
      record.validationAccuracy = v.accuracy;
      if (!best || v.accuracy > best.accuracy || (v.accuracy === best.accuracy && v.loss < best.loss - 1e-9 * Math.abs(best.loss))) {
        best = { epoch, accuracy: v.accuracy, loss: v.loss, values: params.map((p) => p.value.slice()) };
        sinceBest = 0;
      } else {
        sinceBest++;
      }
    }
    record.seconds = (Date.now() - t0) / 1000;
    history.push(record);
    onProgress?.({
      phase: 'epoch',
      epoch,
      epochs,
      batch: batches,
      batches,
      loss: record.loss,
      accuracy: record.accuracy,
      learningRate: lr,
      ...(validation ? { validationLoss: record.validationLoss!, validationAccuracy: record.validationAccuracy! } : {}),
    });
    if (patience > 0 && sinceBest >= patience && epoch < epochs - 1) {
      stoppedEarly = true;
      break;
    }
  }
  let bestEpoch = history.length - 1;
  if (best && restoreBest) {
    params.forEach((p, j) => p.value.set(best.values[j]!));
    net.sync();
    bestEpoch = best.epoch;
  }
  return { model: trained, history, bestEpoch, stoppedEarly, seconds: (Date.now() - start) / 1000 };
}
