/**
 * pann's CKKS parameter model, with no node-seal in it: ring and chain, the exact prime search SEAL's
 * CoeffModulus.Create does, canonical scales per level, the scale limits, the 128-bit bounds, the noise formulas
 * and the op-cost/size model. The compiler, the circuit format and the sim backend import this, never SEAL.
 */
export { MAX_COEFF_MODULUS_BITS_128, PRIME_BITS_RANGE, RING_DIMENSIONS } from './security.js';
export { availablePrimeCount, coeffModulusPrimes, isPrime, primesCongruentOne, smallestPrimeBits } from './primes.js';
export {
  CkksParameters,
  PLANNED_SCALE_MARGIN_BITS,
  SCALE_BITS_RANGE,
  type CkksParametersLiteral,
  type ScaledParameters,
} from './parameters.js';
export { ERROR_STD, encodingNoiseStd, encryptionNoiseStd, rescaleNoiseLog2Bound, rescaleNoiseStd } from './noise.js';
export {
  MEASURED_OPS,
  committedOpCosts,
  fitCost,
  fitTable,
  measuredOpCost,
  predictOpMs,
  predictSizes,
  validateOpCostTable,
  type CkksCostOp,
  type MeasuredOp,
  type OpCostFit,
  type OpCostFn,
  type OpCostSample,
  type OpCostTable,
  type PredictedSizes,
} from './cost-model.js';
