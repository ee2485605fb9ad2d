/**
 * Reference inference: batched float64 forward passes. This is the ground truth the encrypted and simulated
 * executions are compared with. Also reports, per non-linear layer, the range of its inputs and how many fell
 * outside a polynomial layer's interval [−B, B] (the compiler's "fraction of activation inputs outside").
 */
import { DataError } from '../errors.js';
import { formatShape, type Model } from './model.js';
import { Network, type LayerTap } from './network.js';

export interface PredictOptions {
  /** Inputs per forward pass. @default 256 */
  batchSize?: number;
  /** Called after each batch with the number of inputs done and the total. */
  onProgress?: (done: number, total: number) => void;
  /** Called after each layer of each batch (see {@link LayerTap}). */
  onLayer?: LayerTap;
}

/** What the inputs of one activation or polynomial layer looked like over a prediction run. */
export interface NonlinearInputStats {
  /** Index into model.layers. */
  layer: number;
  type: 'activation' | 'polynomial';
  /** Activation spec (for a polynomial layer: the activation it stands in for). */
  activation: string;
  /** Number of scalar inputs seen (samples × layer width). */
  count: number;
  min: number;
  max: number;
  /** Polynomial layers: the interval [a, b] the approximation holds on; null for activation layers. */
  interval: [number, number] | null;
  /** Inputs outside the interval (0 for activation layers). */
  outside: number;
  /** outside / count. */
  fractionOutside: number;
  /** Whether the polynomial layer clamps inputs into its interval. */
  clamped: boolean;
}

export interface PredictResult {
  /** count × classes, row-major. */
  logits: Float64Array;
  count: number;
  /** Width of the output (number of classes for a classifier). */
  classes: number;
  /** One entry per activation/polynomial layer, in layer order. */
  stats: NonlinearInputStats[];
}

function resolveOptions(options: PredictOptions | number): PredictOptions {
  return typeof options === 'number' ? { batchSize: options } : options;
}

/** Check an input buffer against the model's input shape; returns the number of samples. */
export function countInputs(model: Model, inputs: Float64Array, size: number): number {
  if (!(inputs instanceof Float64Array)) throw new DataError(`inputs: expected a Float64Array`);
  if (inputs.length === 0 || inputs.length % size !== 0) {
    throw new DataError(
      `inputs: ${inputs.length} values is not a whole number of inputs of shape ${formatShape(model.inputShape)} (${size} values each)`,
    );
  }
  for (let i = 0; i < inputs.length; i++) {
    if (!Number.isFinite(inputs[i]!)) {
      throw new DataError(`inputs: value ${i % size} of input ${Math.floor(i / size)} is ${inputs[i]}, not a finite number`);
    }
  }
  return inputs.length / size;
}

/**
 * Logits for a batch of inputs (inputs: count × prod(inputShape), row-major C-H-W).
 * A number as the third argument is the batch size.
 */
export function predict(model: Model, inputs: Float64Array, options: PredictOptions | number = {}): Float64Array {
  return run(model, inputs, resolveOptions(options), false).logits;
}

/** Logits plus the input statistics of every activation/polynomial layer. */
export function predictWithStats(model: Model, inputs: Float64Array, options: PredictOptions | number = {}): PredictResult {
  return run(model, inputs, resolveOptions(options), true);
}

function run(model: Model, inputs: Float64Array, options: PredictOptions, withStats: boolean): PredictResult {
  const { batchSize = 256, onProgress, onLayer } = options;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new DataError(`batchSize must be a positive integer, got ${batchSize}`);
  const net = new Network(model);
  const count = countInputs(model, inputs, net.inputSize);
  const stats: NonlinearInputStats[] = [];
  const byLayer = new Map<number, NonlinearInputStats>();
  if (withStats) {
    model.layers.forEach((l, i) => {
      if (l.type !== 'activation' && l.type !== 'polynomial') return;
      const s: NonlinearInputStats = {
        layer: i,
        type: l.type,
        activation: l.type === 'activation' ? l.activation.toString() : l.approximation.activation,
        count: 0,
        min: Infinity,
        max: -Infinity,
        interval: l.type === 'polynomial' ? [l.approximation.interval[0], l.approximation.interval[1]] : null,
        outside: 0,
        fractionOutside: 0,
        clamped: l.type === 'polynomial' && l.clamp,
      };
      stats.push(s);
      byLayer.set(i, s);
    });
  }
  const tap: LayerTap | undefined =
    withStats || onLayer
      ? (index, input, output, n) => {
          const s = byLayer.get(index);
          if (s) accumulate(s, input);
          onLayer?.(index, input, output, n);
        }
      : undefined;
  const logits = new Float64Array(count * net.outputSize);
  for (let start = 0; start < count; start += batchSize) {
    const n = Math.min(batchSize, count - start);
    const x = inputs.subarray(start * net.inputSize, (start + n) * net.inputSize);
    const y = net.forward(x, n, tap ? { onLayer: tap } : {});
    logits.set(y, start * net.outputSize);
    onProgress?.(start + n, count);
  }
  for (const s of stats) s.fractionOutside = s.count ? s.outside / s.count : 0;
  return { logits, count, classes: net.outputSize, stats };
}

function accumulate(s: NonlinearInputStats, input: Float64Array): void {
  let { min, max, outside } = s;
  const [a, b] = s.interval ?? [-Infinity, Infinity];
  for (let i = 0; i < input.length; i++) {
    const v = input[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
    if (v < a || v > b) outside++;
  }
  s.min = min;
  s.max = max;
  s.outside = outside;
  s.count += input.length;
}

/** Index of the largest value of each row (count rows of `classes` values). Ties go to the lower index. */
export function argmax(logits: Float64Array, classes: number): Int32Array {
  const count = Math.floor(logits.length / classes);
  const out = new Int32Array(count);
  for (let r = 0; r < count; r++) {
    let best = 0;
    let bv = logits[r * classes]!;
    for (let c = 1; c < classes; c++) {
      const v = logits[r * classes + c]!;
      if (v > bv) {
        bv = v;
        best = c;
      }
    }
    out[r] = best;
  }
  return out;
}
