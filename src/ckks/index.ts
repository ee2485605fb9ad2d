/**
 * pann's CKKS layer: the only code that touches node-seal. Everything here frees its WASM objects (dispose/free)
 * and validates input in JS before SEAL sees it, so bad parameters, plans or hostile bytes give a CkksError.
 */
export { loadSeal, wasmHeapBytes, wasmStatus, MAX_UNRESTORED_FAULTS } from './wasm.js';
export * from './params/index.js';
export { CkksContext, checkParameters, sealCoeffModulus } from './context.js';
export { galoisElement, normaliseRotationStep, normaliseRotationSteps } from './galois.js';
export {
  ClientKeys,
  EvaluationKeys,
  generateKeys,
  loadClientKeys,
  loadEvaluationKeys,
  type EvaluationKeyBytes,
  type KeyOptions,
} from './keys.js';
export { Plaintext, encodeConstant, encodePlaintext, loadPlaintext, savePlaintext, type SavedPlaintext } from './plaintext.js';
export { Ciphertext, checkCiphertext, loadCiphertext, saveCiphertext, type CiphertextExpectation, type SaveOptions } from './ciphertext.js';
export { CkksEncryptor } from './encryption.js';
export { CkksEvaluator, sameScale } from './evaluator.js';
export { ciphertextBytes, kswitchKeysBytes, secretKeyBytes, type Compression } from './wire-format.js';
