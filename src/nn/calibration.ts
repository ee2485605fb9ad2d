/**
 * Calibration: the range of the inputs each activation/polynomial layer sees on a dataset (min, max, max |x|,
 * percentiles of x and |x|). The compiler fits polynomials on [−B, B] with B from here; `pann info` prints it.
 */
import { checkDatasetFitsModel, type Dataset } from './dataset.js';
import { predict } from './inference.js';
import { layerInputIndex, modelShapes, nonlinearLayerIndices, shapeSize, type Model } from './model.js';
import { Network } from './network.js';

export interface PercentileValue {
  /** Percentile in [0, 100]. */
  p: number;
  /** Percentile of the signed inputs. */
  value: number;
  /** Percentile of |input|. */
  abs: number;
}

export interface ActivationRange {
  layer: number;
  type: 'activation' | 'polynomial';
  /** Activation spec (for a polynomial layer, the activation it stands in for). */
  activation: string;
  /** Number of scalar inputs seen. */
  count: number;
  min: number;
  max: number;
  maxAbs: number;
  percentiles: PercentileValue[];
  /** Number of inputs the percentiles were computed from (every k-th input when count > maxSamples). */
  sampled: number;
}

export interface CalibrationOptions {
  /** Percentiles to report. @default [0.1, 1, 50, 99, 99.9] */
  percentiles?: number[];
  /** Most inputs kept per layer for the percentiles (evenly strided); min/max always use all. @default 2_000_000 */
  maxSamples?: number;
  /** @default 256 */
  batchSize?: number;
}

/** Linear-interpolated percentile (p in [0, 100]) of sorted values. */
export function percentileOfSorted(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const r = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(r);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo]! + (r - lo) * (sorted[hi]! - sorted[lo]!);
}

/** Input ranges of every activation/polynomial layer over a dataset. */
export function activationInputRanges(model: Model, ds: Dataset, options: CalibrationOptions = {}): ActivationRange[] {
  const { percentiles = [0.1, 1, 50, 99, 99.9], maxSamples = 2_000_000, batchSize = 256 } = options;
  checkDatasetFitsModel(ds, model, new Network(model).outputSize);
  const shapes = modelShapes(model);
  const inShape = (i: number) => {
    const from = layerInputIndex(model.layers[i]!, i);
    return from < 0 ? model.inputShape : shapes[from]!;
  };
  const acc = new Map<number, { min: number; max: number; count: number; stride: number; kept: Float64Array; n: number; phase: number }>();
  for (const i of nonlinearLayerIndices(model)) {
    const total = ds.count * shapeSize(inShape(i));
    const stride = Math.max(1, Math.ceil(total / maxSamples));
    acc.set(i, { min: Infinity, max: -Infinity, count: 0, stride, kept: new Float64Array(Math.ceil(total / stride)), n: 0, phase: 0 });
  }
  predict(model, ds.inputs, {
    batchSize,
    onLayer: (index, input) => {
      const a = acc.get(index);
      if (!a) return;
      let { min, max, n, phase } = a;
      for (let k = 0; k < input.length; k++) {
        const v = input[k]!;
        if (v < min) min = v;
        if (v > max) max = v;
        if (phase === 0 && n < a.kept.length) a.kept[n++] = v;
        if (++phase === a.stride) phase = 0;
      }
      Object.assign(a, { min, max, n, phase, count: a.count + input.length });
    },
  });
  return [...acc.entries()].map(([i, a]) => {
    const layer = model.layers[i]!;
    const kept = a.kept.subarray(0, a.n);
    const sorted = kept.slice().sort();
    const abs = kept.map(Math.abs).sort();
    return {
      layer: i,
      type: layer.type as 'activation' | 'polynomial',
      activation:
        layer.type === 'activation' ? layer.activation.toString() : layer.type === 'polynomial' ? layer.approximation.activation : '',
      count: a.count,
      min: a.min,
      max: a.max,
      maxAbs: Math.max(Math.abs(a.min), Math.abs(a.max)),
      percentiles: percentiles.map((p) => ({ p, value: percentileOfSorted(sorted, p), abs: percentileOfSorted(abs, p) })),
      sampled: a.n,
    };
  });
}
