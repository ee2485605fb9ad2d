/**
 * Polynomial-aware fine-tuning: replace each activation layer by its polynomial stand-in on [−B, B] (B calibrated
 * on the training data × a margin, or the interval of a given approximation), keep inputs in range by clamping or by
 * a range penalty, and fine-tune for a few epochs so the network adapts to the approximation error
 * (the remedy studied by Zhang, Fan, Au & Yiu, "Neural Networks with (Low-Precision) Polynomial Approximations", 2024).
 */
import { parseActivation, type Activation } from '../approx/activations.js';
import type { PolynomialApproximation } from '../approx/polynomial.js';
import { ModelError, TrainError } from '../errors.js';
import { activationInputRanges } from './calibration.js';
import type { Dataset } from './dataset.js';
import { cloneModel, type Model } from './model.js';
import { Network } from './network.js';
import { networkScore, trainModel, type TrainOptions, type TrainResult } from './train.js';

/** Builds the stand-in for an activation on [−bound, bound] (e.g. the fitter's precision search). */
export type ApproximationProvider = (activation: Activation, bound: number, layer: number) => PolynomialApproximation;

export interface FinetuneOptions extends TrainOptions {
  /** Training data (also calibrates B unless `calibration` is given). */
  train: Dataset;
  /** Data on which B is calibrated. @default train */
  calibration?: Dataset;
  /** B = margin × (percentile of |input|) on the calibration data. @default 1.1 */
  margin?: number;
  /** Percentile of |input| that sets B (100 = the maximum). @default 100 */
  percentile?: number;
  /** Out-of-range inputs: 'clamp' them into [−B, B] (also in the saved model) or add a 'penalty' (no clamp). @default 'clamp' */
  range?: 'clamp' | 'penalty';
  /** @default 3 */
  epochs?: number;
  /** @default 1e-4 */
  learningRate?: number;
}

export interface FinetuneResult extends TrainResult {
  /** Indices of the replaced layers. */
  replaced: number[];
  /** B of each replaced layer. */
  bounds: number[];
  /** Validation accuracy of the original model and of the polynomial model before fine-tuning (with a validation set). */
  before?: { original: number; polynomial: number };
}

function canonical(spec: string): string {
  try {
    return parseActivation(spec).toString();
  } catch {
    return spec;
  }
}

/**
 * Replace every activation layer of `model` by a polynomial layer and fine-tune. `approximations` is either one
 * approximation per activation layer (in layer order; B is its interval) or a provider called with the calibrated B.
 */
export function finetunePolynomial(
  model: Model,
  approximations: readonly PolynomialApproximation[] | ApproximationProvider,
  options: FinetuneOptions,
): FinetuneResult {
  const { train, calibration = train, margin = 1.1, percentile = 100, range = 'clamp', epochs = 3, learningRate = 1e-4 } = options;
  if (!(margin > 0) || !Number.isFinite(margin)) throw new TrainError(`margin must be a finite number > 0, got ${margin}`);
  if (!(percentile > 0 && percentile <= 100)) throw new TrainError(`percentile must be in (0, 100], got ${percentile}`);
  if (range !== 'clamp' && range !== 'penalty') throw new TrainError(`range must be 'clamp' or 'penalty', got '${String(range)}'`);
  const replaced = model.layers.flatMap((l, i) => (l.type === 'activation' ? [i] : []));
  if (replaced.length === 0) throw new ModelError(`model '${model.name}' has no activation layer to replace`);
  let approx: PolynomialApproximation[];
  if (typeof approximations === 'function') {
    const ranges = new Map(activationInputRanges(model, calibration, { percentiles: [percentile] }).map((r) => [r.layer, r]));
    approx = replaced.map((i) => {
      const r = ranges.get(i)!;
      const bound = margin * (percentile === 100 ? r.maxAbs : r.percentiles[0]!.abs);
      if (!(bound > 0)) throw new ModelError(`layers[${i}]: its inputs are all 0 on ${calibration.name}; cannot calibrate B`);
      const layer = model.layers[i] as Extract<Model['layers'][number], { type: 'activation' }>;
      return approximations(layer.activation, bound, i);
    });
  } else {
    if (approximations.length !== replaced.length) {
      throw new ModelError(
        `model '${model.name}' has ${replaced.length} activation layers but ${approximations.length} approximations were given`,
      );
    }
    approx = [...approximations];
    approx.forEach((a, j) => {
      const layer = model.layers[replaced[j]!] as Extract<Model['layers'][number], { type: 'activation' }>;
      if (canonical(a.activation) !== layer.activation.toString()) {
        throw new ModelError(
          `approximations[${j}] stands in for '${a.activation}' but layers[${replaced[j]}] is '${layer.activation.toString()}'`,
        );
      }
    });
  }
  const poly = cloneModel(model);
  replaced.forEach((i, j) => {
    const from = poly.layers[i]!.from;
    poly.layers[i] = { type: 'polynomial', approximation: approx[j]!, clamp: range === 'clamp', ...(from !== undefined ? { from } : {}) };
  });
  const bounds = approx.map((a) => Math.max(Math.abs(a.interval[0]), Math.abs(a.interval[1])));
  const before = options.validation
    ? {
        original: networkScore(new Network(model), options.validation).accuracy,
        polynomial: networkScore(new Network(poly), options.validation).accuracy,
      }
    : undefined;
  const result = trainModel(poly, train, {
    ...options,
    epochs,
    learningRate,
    rangePenalty: range === 'penalty' ? (options.rangePenalty ?? 1e-2) : (options.rangePenalty ?? 0),
  });
  result.model.metadata = {
    ...result.model.metadata,
    finetune: {
      from: model.name,
      range,
      margin,
      percentile,
      epochs,
      learningRate,
      layers: replaced.map((i, j) => ({
        layer: i,
        activation: approx[j]!.activation,
        method: approx[j]!.method,
        interval: [...approx[j]!.interval],
        degrees: approx[j]!.stages.map((s) => s.coefficients.length - 1),
      })),
      ...(before ? { before } : {}),
    },
  };
  return { ...result, replaced, bounds, ...(before ? { before } : {}) };
}
