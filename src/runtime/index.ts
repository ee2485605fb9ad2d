/**
 * Public API of the runtime: a compiled circuit executed on the `seal` backend (real CKKS through node-seal) or
 * the `sim` backend (float64, optionally with the CKKS noise model), op for op the same.
 */
export type { Backend, CipherHandle, PlainHandle } from './backend.js';
export { PreparedCircuit, decodeBatch, decodeOutput, encodeBatch, encodeInput, type StageTiming } from './executor.js';
export { argmaxOf, runInferences, runSim, simBackendFor, type InferenceRecord } from './inference.js';
export { estimateNoise, topTwoGap } from './noise.js';
export { SimBackend, type SimOptions } from './sim-backend.js';
export { SealBackend, type SealBackendKeys } from './seal-backend.js';
export { runSeal, sealBackendFor, type SealRunOptions } from './seal-inference.js';
export { runSealParallel, type ParallelSealOptions } from './seal-parallel.js';
