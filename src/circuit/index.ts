/**
 * The circuit: pann's CKKS program format, shared by the compiler (which writes circuits) and the runtime (which
 * executes them). Types, the builder that enforces SEAL's level/scale rules op by op, the replay check, op
 * counts and costs, and the file format.
 */
export * from './types.js';
export { CircuitBuilder, refreshBits, signedPowerSteps, type BuilderOptions, type RotationKeySet } from './builder.js';
export { verifyCircuit } from './verify.js';
export {
  checkRelayouts,
  checkRoundInvariant,
  refreshRounds,
  relayoutProblem,
  ciphertextRelayout,
  relayoutSlots,
  type CipherPlace,
  type RefreshRound,
} from './rounds.js';
export { countOps, predictOpsMs, refreshClientMs } from './cost.js';
export {
  CIRCUIT_FORMAT,
  CIRCUIT_VERSION,
  circuitFromJSON,
  circuitToJSON,
  loadCircuit,
  parseCircuit,
  saveCircuit,
  serializeCircuit,
} from './file.js';
