import { describe, expect, it } from 'vitest';
import * as ckks from '../../src/ckks/index.js';

describe('src/ckks public API', () => {
  it('exports exactly this list (change it on purpose)', () => {
    expect(Object.keys(ckks).sort()).toMatchInlineSnapshot(`
      [
        "Ciphertext",
        "CkksContext",
        "CkksEncryptor",
        "CkksEvaluator",
        "ClientKeys",
        "EvaluationKeys",
        "MAX_COEFF_MODULUS_BITS_128",
        "MAX_UNRESTORED_FAULTS",
        "MEASURED_OPS",
        "PRIME_BITS_RANGE",
        "Plaintext",
        "availablePrimeCount",
        "checkCiphertext",
        "checkParameters",
        "ciphertextBytes",
        "committedOpCosts",
        "encodeConstant",
        "encodePlaintext",
        "galoisElement",
        "generateKeys",
        "kswitchKeysBytes",
        "loadCiphertext",
        "loadClientKeys",
        "loadEvaluationKeys",
        "loadSeal",
        "normaliseRotationStep",
        "normaliseRotationSteps",
        "predictOpMs",
        "predictSizes",
        "sameScale",
        "saveCiphertext",
        "sealPrimes",
        "secretKeyBytes",
        "smallestPrimeBits",
        "validateOpCostTable",
        "validateParameterShape",
        "wasmHeapBytes",
        "wasmStatus",
      ]
    `);
  });
});
