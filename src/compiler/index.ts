/**
 * Public API of the compiler: a network and a precision become a CKKS circuit (compile.ts lists the passes).
 */
export { NOISE_FLIP_NOTE, compileNetwork, minimumScaleBits, type CompileOptions, type NoiseCheck } from './compile.js';
export {
  DEFAULT_LINK,
  DEFAULT_MASK_BITS,
  SINGLE_CHAIN,
  describeLink,
  parseLink,
  type LinkModel,
  type RefreshOptions,
} from './refresh-points.js';
export {
  carryToRange,
  fitterProvider,
  type ApproximationMethod,
  type ApproximationProvider,
  type FitterProviderOptions,
  type ProvidedApproximation,
} from './polynomialise.js';
export { foldModel, type NetBlock } from './fold.js';
export { calibrateRanges, type ActivationRange, type CalibrationResult, type RangeRule } from './calibrate.js';
export { selectParameters, type ParamRequest } from './select-params.js';
