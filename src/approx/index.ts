/**
 * Public API of the fitter: activation catalog, Chebyshev interpolation, Remez minimax, composite sign/ReLU,
 * measured max error, precision search, approximation files and the committed catalog.
 */
export {
  ACTIVATION_NAMES,
  Activation,
  activation,
  activationFromJSON,
  describeActivations,
  parseActivation,
  type ParamSpec,
  type ParityHint,
} from './activations.js';
export {
  clenshaw,
  evalApproximation,
  evalApproximationDerivative,
  evalChebyshev,
  evalChebyshevDerivative,
  powerToChebyshev,
  toUnit,
  type ApproximationFinish,
  type ChebyshevPolynomial,
  type PolynomialApproximation,
} from './polynomial.js';
export { chebyshevCoefficients, chebyshevInterpolant, chebyshevPoints, type ChebyshevKind, type InterpolantOptions } from './chebyshev.js';
export {
  asymmetricWeight,
  coefficientParity,
  fitMinimax,
  type Interval,
  type MinimaxOptions,
  type MinimaxProgress,
  type MinimaxResult,
  type MinimaxStopReason,
} from './remez.js';
export {
  PUBLISHED_SIGN_DEGREES,
  evalCompositeSign,
  fitCompositeSign,
  searchCompositeDegrees,
  searchSignDegrees,
  searchSignFinish,
  type CompositeSign,
  type CompositeSignOptions,
  type CompositeStage,
  type CompositeSearchOptions,
  type SignFinish,
} from './composite.js';
export { measureErrorCurve, measureMaxError, type MaxErrorOptions, type MeasuredError } from './max-error.js';
export { approximationCost, compareCost, evaluationStages, oneLevelQuadratic, polynomialCost, type ApproximationCost } from './cost.js';
export {
  FIT_METHODS,
  fitApproximation,
  scaleApproximation,
  type AsymmetricWeight,
  type FitMethod,
  type FitRequest,
  type FittedApproximation,
  type FittedStage,
} from './fitted.js';
export {
  RELU_COMPOSITES,
  candidateDegrees,
  createFitCache,
  fitForPrecision,
  type FitCache,
  type PrecisionFit,
  type PrecisionOptions,
  type SearchProgress,
} from './search.js';
export {
  APPROXIMATION_FORMAT,
  APPROXIMATION_VERSION,
  approximationFileText,
  approximationFromJSON,
  approximationToJSON,
  parseApproximationFile,
} from './approximation-file.js';
export {
  CATALOG_INDEX_FORMAT,
  CATALOG_INDEX_VERSION,
  buildCatalog,
  catalogFileName,
  catalogSpecs,
  writeCatalog,
  type Catalog,
  type CatalogIndexEntry,
  type CatalogOptions,
  type CatalogSpec,
} from './catalog.js';
export { PRECISION_BITS_RANGE, LayerPrecision, isPrecisionBits, precisionBits, type PrecisionBits } from './precision.js';
