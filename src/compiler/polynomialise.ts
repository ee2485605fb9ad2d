/**
 * Polynomialise pass: every activation block gets its polynomial on its calibrated range [−B, B] — a PANN's own
 * polynomial layer as it is, a catalog activation from the approximation provider. Precision k is normalised to
 * the calibrated range: the activation's max error on [−B, B] is at most B·2^−k (for ReLU this is Lee et al.'s
 * "precision α" of the sign approximation on [−1, 1]).
 *
 * The default provider (`fitterProvider`) fits by `fitForRange` (range-fit.ts), the same function as
 * `pann fit --precision k --range -B,B`, by the one rule of precision.ts (`rangeTarget`):
 * - Positively homogeneous activations (ReLU, |x|, leaky ReLU, …; f(Bt) = B^h·f(t)) are fitted once on [−1, 1]
 *   and carried to every B — for ReLU (h = 1) at 2^−k, the same fits the committed catalog holds.
 * - Other activations (ULU, GELU, SiLU, …) are fitted on [−B, B] itself, to absolute error 2^−k' with
 *   k' = max(1, ⌈k − log2 B⌉) (the fitter takes whole bits, so the fit is at least as precise as asked).
 */
import { type Activation, parseActivation } from '../approx/activations.js';
import type { AsymmetricWeight, FitMethod } from '../approx/fitted.js';
import { measureMaxError } from '../approx/max-error.js';
import type { PolynomialApproximation } from '../approx/polynomial.js';
import type { LayerPrecision } from '../approx/precision.js';
import { fitForRange } from '../approx/range-fit.js';
import { createFitCache, type FitCache } from '../approx/search.js';
import type { ActivationReport } from '../circuit/index.js';
import { CompileError, errorMessage } from '../errors.js';
import { type CalibrationResult, countOutsideRange } from './calibrate.js';
import type { NetBlock } from './fold.js';

/** Which fitting method the compiler may use for an activation (auto: the cheapest that reaches the precision). */
export type ApproximationMethod = 'remez' | 'chebyshev' | 'composite' | 'auto';

/** What the fitter returns for one activation. */
export interface ProvidedApproximation {
  approximation: PolynomialApproximation;
  /** Max |f(x) − p(x)| over [−B, B], in the activation's units. */
  maxError: number;
  /** Where it came from (catalog file, fitted on the fly, stored in the model). */
  source: string;
}

/** Finds the approximation of `activation` on [−B, B] with error ≤ B·2^−k (normalised precision k). */
export type ApproximationProvider = (req: {
  activation: Activation;
  B: number;
  precisionBits: number;
  method: ApproximationMethod;
  /** Composite stand-ins: the deepest one stage may be (PrecisionOptions.compositeStageDepth). */
  compositeStageDepth?: number;
}) => ProvidedApproximation;

/** An activation block with its polynomial on [−B, B] and what the report says of it. */
export interface PolynomialActivation {
  /** Index of the activation block. */
  block: number;
  approximation: PolynomialApproximation;
  /** The activation's degree of positive homogeneity (null for a stored polynomial layer). */
  homogeneity: number | null;
  report: Omit<ActivationReport, 'depth'>;
}

export interface PolynomialiseOptions {
  precision: LayerPrecision;
  method: ApproximationMethod;
  /** Composite stand-ins with no stage deeper than this (for short segments between refresh rounds). */
  compositeStageDepth?: number;
  /** Required when the model has catalog activations. */
  provider?: ApproximationProvider;
  /** Calibration inputs (count × input size, back to back), to measure how many fall outside each [−B, B]. */
  calibration: { inputs: Float64Array; count: number };
}

/**
 * The polynomial of every activation block: a PANN's own (its interval is its range), or the provider's fit on
 * the calibrated [−B, B]; then the share of calibration inputs outside the B actually used.
 */
export function polynomialiseActivations(
  blocks: readonly NetBlock[],
  calibrated: CalibrationResult,
  options: PolynomialiseOptions,
): PolynomialActivation[] {
  const activationBlocks = blocks.flatMap((b, i) => (b.kind === 'activation' ? [i] : []));
  const planned = activationBlocks.map((bi, n) => polynomialFor(blocks[bi] as ActivationBlock, bi, calibrated, options, n));
  // the fraction of calibration inputs outside the [-B, B] actually used (a PANN's own range may be narrower)
  const { inputs, count } = options.calibration;
  const inDim = inputs.length / count;
  const outside = countOutsideRange(
    blocks,
    inputs,
    count,
    inDim,
    planned.map((p) => p.report.B),
  );
  planned.forEach((p, n) => (p.report.outsideFraction = outside[n]!.outside / Math.max(1, outside[n]!.total)));
  return planned;
}

type ActivationBlock = Extract<NetBlock, { kind: 'activation' }>;

function polynomialFor(
  block: ActivationBlock,
  bi: number,
  calibrated: CalibrationResult,
  options: PolynomialiseOptions,
  n: number,
): PolynomialActivation {
  const range = calibrated.ranges.find((x) => x.block === bi)!;
  const k = options.precision.at(n);
  let provided: ProvidedApproximation;
  let B = range.B;
  if (block.approximation) {
    // a PANN's own polynomial: its interval is its range; its error is measured against the activation it stands for
    B = block.approximation.interval[1];
    provided = {
      approximation: block.approximation,
      maxError: storedPolynomialError(block.approximation),
      source: 'model polynomial layer',
    };
  } else {
    if (!options.provider) throw new CompileError(`activation ${block.activation!.toString()} needs an approximation provider`);
    const stageDepth = options.compositeStageDepth !== undefined ? { compositeStageDepth: options.compositeStageDepth } : {};
    provided = options.provider({ activation: block.activation!, B, precisionBits: k, method: options.method, ...stageDepth });
  }
  return {
    block: bi,
    approximation: provided.approximation,
    homogeneity: block.activation ? block.activation.homogeneity : null,
    report: {
      layer: block.layer,
      activation: block.activation ? block.activation.toString() : provided.approximation.activation,
      method: provided.approximation.method,
      B,
      precisionBits: k,
      degree: provided.approximation.stages.map((s) => s.coefficients.length - 1),
      maxError: provided.maxError,
      log2Error: Math.log2(provided.maxError / B),
      outsideFraction: range.outsideFraction, // recomputed against the B actually used
      source: provided.source,
    },
  };
}

/** Measured max error of a model's polynomial layer against its activation (NaN if the activation is unknown). */
function storedPolynomialError(a: PolynomialApproximation): number {
  try {
    const act = parseActivation(a.activation);
    return measureMaxError((x) => act.f(x), a).maxError;
  } catch {
    return NaN;
  }
}

export interface FitterProviderOptions {
  /** Shared fit cache (a study reuses it across cells). @default a fresh cache */
  cache?: FitCache;
  /** Asymmetric (weighted) Remez: errors on negative inputs weigh `negative` times more. @default none */
  weight?: AsymmetricWeight;
}

function methodsFor(method: ApproximationMethod): FitMethod[] {
  return method === 'auto' ? ['chebyshev', 'remez', 'composite'] : [method];
}

/**
 * A fit of a positively homogeneous activation (degree h) on [−1, 1] carried to [−B, B]: the first stage reads
 * x/B (same coefficients on the scaled interval), a plain polynomial's output is multiplied by B^h, and a
 * relu/abs finish multiplies by x itself (sign(x/B) = sign(x)). The error scales by B^h exactly.
 */
export function carryToRange(a: PolynomialApproximation, B: number, h: number): PolynomialApproximation {
  const [lo, hi] = a.interval;
  if (lo !== -1 || hi !== 1) throw new CompileError(`carryToRange: expects a fit on [-1, 1], got [${lo}, ${hi}]`);
  const last = a.stages.length - 1;
  const stages = a.stages.map((s, i) => ({
    interval: i === 0 ? ([-B, B] as const) : s.interval,
    coefficients: a.finish === 'none' && i === last ? Array.from(s.coefficients, (c) => c * B ** h) : s.coefficients,
  }));
  return { ...a, interval: [-B, B], stages };
}

/**
 * The provider the CLI, the study and fine-tuning use: the fitter's precision search, with a cache. The returned
 * approximation is always on [−B, B] (its error ≤ B·2^−k).
 */
export function fitterProvider(options: FitterProviderOptions = {}): ApproximationProvider {
  const cache: FitCache = options.cache ?? createFitCache();
  const memo = new Map<string, ProvidedApproximation>();
  return ({ activation, B, precisionBits, method, compositeStageDepth }) => {
    const key = `${activation.toString()}|${B}|${precisionBits}|${method}|${options.weight ? `${options.weight.negative},${options.weight.positive}` : ''}|${compositeStageDepth ?? ''}`;
    const hit = memo.get(key);
    if (hit) return hit;
    const methods = methodsFor(method).filter((m) => !(options.weight && m === 'composite'));
    let fit;
    try {
      // the one rule of precision on a range (precision.ts rangeTarget), shared with `pann fit --precision`
      fit = fitForRange(activation, {
        interval: [-B, B],
        k: precisionBits,
        methods: options.weight ? methods.filter((m) => m === 'remez') : methods,
        cache,
        ...(options.weight ? { weight: options.weight } : {}),
        ...(compositeStageDepth !== undefined ? { compositeStageDepth } : {}),
      });
    } catch (err) {
      throw new CompileError(`cannot approximate ${activation.toString()} at precision ${precisionBits}: ${errorMessage(err)}`, {
        cause: err,
      });
    }
    const provided: ProvidedApproximation = {
      approximation: fit.approximation,
      maxError: fit.maxError,
      source: fit.precision.carried
        ? `fitted on [-1, 1] (${fit.method}), scaled by B^${activation.homogeneity}`
        : `fitted on [-${B.toPrecision(4)}, ${B.toPrecision(4)}] (${fit.method})`,
    };
    memo.set(key, provided);
    return provided;
  };
}
