/**
 * Mini-batch training with softmax cross-entropy: SGD+momentum or Adam, a learning-rate schedule, L2 weight decay,
 * Mixup, image augmentation, early stopping on a validation set (restoring the best epoch), a range penalty for
 * polynomial layers, and progress through a callback. Deterministic for a given seed.
 */
import { TrainError } from '../errors.js';
import { augmentBatch, augmentationEnabled, type AugmentOptions } from './augment.js';
import { checkDatasetFitsModel, type Dataset } from './dataset.js';
import type { ParamGroup } from './layer-ops.js';
import { oneHot, softmaxCrossEntropy } from './loss.js';
import { mixupBatch } from './mixup.js';
import { cloneModel, type Model } from './model.js';
import { Network } from './network.js';
import { createOptimizer, type Optimizer, type OptimizerName } from './optimizer.js';
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
  const s = trainSettings(options);
  const start = Date.now();
  const run = prepareRun(model, data, s);
  const history: EpochRecord[] = [];
  const tracker = new BestValidation();
  let stoppedEarly = false;
  for (let epoch = 0; epoch < s.epochs; epoch++) {
    const t0 = Date.now();
    const stats = trainEpoch(run, data, s, epoch);
    const record = epochRecord(run, s, epoch, stats, tracker);
    record.seconds = (Date.now() - t0) / 1000;
    history.push(record);
    s.onProgress?.(epochProgress(record, s, run.batches));
    if (s.patience > 0 && tracker.sinceBest >= s.patience && epoch < s.epochs - 1) {
      stoppedEarly = true;
      break;
    }
  }
  const bestEpoch = s.restoreBest && tracker.best ? restoreWeights(run, tracker.best) : history.length - 1;
  return { model: run.trained, history, bestEpoch, stoppedEarly, seconds: (Date.now() - start) / 1000 };
}

/** TrainOptions with every default applied. */
type TrainSettings = Required<Omit<TrainOptions, 'augment' | 'validation' | 'teacher' | 'onProgress'>> &
  Pick<TrainOptions, 'augment' | 'validation' | 'teacher' | 'onProgress'>;

/** The options with their defaults, each number checked. */
function trainSettings(options: TrainOptions): TrainSettings {
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
  const settings = { epochs, batchSize, learningRate, optimizer, momentum, weightDecay, maxGradNorm, schedule, mixupAlpha };
  return { ...settings, augment, validation, patience, restoreBest, seed, rangePenalty, teacher, onProgress };
}

/** What one training run works on: the network being trained, its optimiser, the PRNG and the batch buffers. */
interface TrainingRun {
  /** The copy of the model being trained (the network's weights are its arrays). */
  trained: Model;
  net: Network;
  params: ParamGroup[];
  opt: Optimizer;
  rng: Prng;
  /** The distillation teacher, or null. */
  teacherNet: Network | null;
  augmenting: boolean;
  /** Batch size (at most the dataset) and batches per epoch. */
  batchSize: number;
  batches: number;
  /** The sample order, shuffled every epoch. */
  order: Int32Array;
  /** The batch as gathered, as augmented, scratch for Mixup, its labels, targets and the loss gradient. */
  xb: Float64Array;
  xa: Float64Array;
  scratch: Float64Array;
  labels: Int32Array;
  targets: Float64Array;
  dLogits: Float64Array;
}

/** Copy the model, check that the data, augmentation and teacher fit it, and allocate the run's state. */
function prepareRun(model: Model, data: Dataset, s: TrainSettings): TrainingRun {
  const trained = cloneModel(model);
  const net = new Network(trained);
  const classes = net.outputSize;
  checkDatasetFitsModel(data, trained, classes);
  if (s.validation) checkDatasetFitsModel(s.validation, trained, classes);
  const augmenting = augmentationEnabled(s.augment);
  if (augmenting && trained.inputShape.length !== 3) {
    throw new TrainError(
      `augmentation needs an image model input [C, H, W], model '${trained.name}' takes [${trained.inputShape.join(', ')}]`,
    );
  }
  const params = net.params();
  if (params.length === 0) throw new TrainError(`model '${trained.name}' has no trainable parameters`);
  const opt = createOptimizer(params, { name: s.optimizer, momentum: s.momentum, weightDecay: s.weightDecay, maxGradNorm: s.maxGradNorm });
  const rng = new Prng(s.seed);
  const size = net.inputSize;
  const bs = Math.min(s.batchSize, data.count);
  const teacherNet = s.teacher && s.teacher.weight > 0 ? new Network(s.teacher.model) : null;
  if (teacherNet && (teacherNet.inputSize !== net.inputSize || teacherNet.outputSize !== classes)) {
    throw new TrainError(
      `teacher '${s.teacher!.model.name}' maps ${teacherNet.inputSize} → ${teacherNet.outputSize}, the model ${net.inputSize} → ${classes}`,
    );
  }
  return {
    trained,
    net,
    params,
    opt,
    rng,
    teacherNet,
    augmenting,
    batchSize: bs,
    batches: Math.ceil(data.count / bs),
    order: Int32Array.from({ length: data.count }, (_, i) => i),
    xb: new Float64Array(bs * size),
    xa: new Float64Array(bs * size),
    scratch: new Float64Array(bs * size),
    labels: new Int32Array(bs),
    targets: new Float64Array(bs * classes),
    dLogits: new Float64Array(bs * classes),
  };
}

/** Running statistics of an epoch's training batches. */
interface EpochStats {
  loss: number;
  accuracy: number;
  /** The learning rate of the last step. */
  learningRate: number;
}

/** One pass over the shuffled data, a step per batch, reporting progress after each. */
function trainEpoch(run: TrainingRun, data: Dataset, s: TrainSettings, epoch: number): EpochStats {
  run.rng.shuffle(run.order);
  let lossSum = 0;
  let correct = 0;
  let seen = 0;
  let lr = s.learningRate;
  for (let b = 0; b < run.batches; b++) {
    const n = Math.min(run.batchSize, data.count - b * run.batchSize);
    const x = gatherBatch(run, data, b, n, s.augment);
    const step = trainBatch(run, x, n, s, { epoch, batch: b, learningRate: lr });
    correct += step.correct;
    lr = step.learningRate;
    lossSum += step.loss * n;
    seen += n;
    s.onProgress?.({
      phase: 'batch',
      epoch,
      epochs: s.epochs,
      batch: b + 1,
      batches: run.batches,
      loss: lossSum / seen,
      accuracy: correct / seen,
      learningRate: lr,
    });
  }
  return { loss: lossSum / seen, accuracy: correct / seen, learningRate: lr };
}

/** Batch b (n samples) in the epoch's order into run.xb and run.labels, then augmented into run.xa if enabled. */
function gatherBatch(run: TrainingRun, data: Dataset, b: number, n: number, augment: AugmentOptions | undefined): Float64Array {
  const size = run.net.inputSize;
  for (let j = 0; j < n; j++) {
    const i = run.order[b * run.batchSize + j]!;
    run.xb.set(data.inputs.subarray(i * size, (i + 1) * size), j * size);
    run.labels[j] = data.labels[i]!;
  }
  if (!run.augmenting) return run.xb;
  augmentBatch(run.xb, n, run.trained.inputShape, augment!, run.rng, run.xa);
  return run.xa;
}

/**
 * One optimiser step on a batch: targets (one-hot, Mixup, distillation), forward, loss, backward, step. `at.learningRate`
 * is the rate in force before this step (named when the loss diverges).
 */
function trainBatch(
  run: TrainingRun,
  x: Float64Array,
  n: number,
  s: TrainSettings,
  at: { epoch: number; batch: number; learningRate: number },
): { loss: number; correct: number; learningRate: number } {
  const { net, rng, labels, targets, dLogits } = run;
  const size = net.inputSize;
  const classes = net.outputSize;
  oneHot(labels, n, classes, targets);
  if (s.mixupAlpha > 0) mixupBatch(x, targets, n, size, classes, s.mixupAlpha, rng, run.scratch);
  if (run.teacherNet) blendTeacher(run.teacherNet, x, n, classes, s.teacher!, targets);
  net.zeroGrad();
  const logits = net.forward(x.subarray(0, n * size), n, { training: true, rng, rangePenalty: s.rangePenalty });
  const loss = softmaxCrossEntropy(logits, n, classes, targets, dLogits) + net.penalty();
  if (!Number.isFinite(loss)) {
    throw new TrainError(
      `training diverged (loss ${loss}) at epoch ${at.epoch + 1} batch ${at.batch + 1}; lower the learning rate (now ${at.learningRate})`,
    );
  }
  const correct = countCorrect(logits, labels, n, classes);
  net.backward(dLogits.subarray(0, n * classes), n);
  const learningRate = learningRateAt(s.learningRate, at.epoch + at.batch / run.batches, s.epochs, s.schedule);
  run.opt.step(learningRate);
  net.sync();
  return { loss, correct, learningRate };
}

/** The best validation epoch so far (higher accuracy, then lower loss) with a copy of its weights, and the epochs since. */
class BestValidation {
  best: { epoch: number; accuracy: number; loss: number; values: Float64Array[] } | null = null;
  sinceBest = 0;

  observe(epoch: number, v: { loss: number; accuracy: number }, params: readonly ParamGroup[]): void {
    const best = this.best;
    if (!best || v.accuracy > best.accuracy || (v.accuracy === best.accuracy && v.loss < best.loss - 1e-9 * Math.abs(best.loss))) {
      this.best = { epoch, accuracy: v.accuracy, loss: v.loss, values: params.map((p) => p.value.slice()) };
      this.sinceBest = 0;
    } else {
      this.sinceBest++;
    }
  }
}

/** The epoch's record (seconds still 0), scored on the validation set if there is one. */
function epochRecord(run: TrainingRun, s: TrainSettings, epoch: number, stats: EpochStats, tracker: BestValidation): EpochRecord {
  const record: EpochRecord = { epoch, loss: stats.loss, accuracy: stats.accuracy, learningRate: stats.learningRate, seconds: 0 };
  if (s.validation) {
    const v = networkScore(run.net, s.validation);
    record.validationLoss = v.loss;
    record.validationAccuracy = v.accuracy;
    tracker.observe(epoch, v, run.params);
  }
  return record;
}

function epochProgress(record: EpochRecord, s: TrainSettings, batches: number): TrainProgress {
  return {
    phase: 'epoch',
    epoch: record.epoch,
    epochs: s.epochs,
    batch: batches,
    batches,
    loss: record.loss,
    accuracy: record.accuracy,
    learningRate: record.learningRate,
    ...(s.validation ? { validationLoss: record.validationLoss!, validationAccuracy: record.validationAccuracy! } : {}),
  };
}

/** Put the best epoch's weights back into the trained model; returns that epoch. */
function restoreWeights(run: TrainingRun, best: NonNullable<BestValidation['best']>): number {
  run.params.forEach((p, j) => p.value.set(best.values[j]!));
  run.net.sync();
  return best.epoch;
}
