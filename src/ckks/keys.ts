/**
 * Keys. Client side: `generateKeys` makes the secret key (which stays with the caller), the public key, and
 * evaluation keys — relinearisation plus Galois keys for exactly the circuit's rotation steps — serialisable in
 * SEAL's seeded half-size form. Server side: `loadEvaluationKeys` validates uploaded bytes in JS (header,
 * parameters, structure, every coefficient reduced, exactly the expected Galois elements) before SEAL sees them.
 */
import { CkksError } from '../errors.js';
import { comprMode, type SaveOptions } from './ciphertext.js';
import type { CkksContext } from './context.js';
import { galoisElement, normaliseRotationStep, normaliseRotationSteps } from './galois.js';
import { decompress, inspectKSwitchKeys, inspectSecretKey, kswitchKeysBytes, readSealHeader, secretKeyBytes } from './wire-format.js';
import { callSeal, freeSeal, type SealDeletable, type SealLibrary } from './wasm.js';

type SealKeyGenerator = ReturnType<SealLibrary['KeyGenerator']>;
type SealSecretKey = ReturnType<SealLibrary['SecretKey']>;
type SealPublicKey = ReturnType<SealLibrary['PublicKey']>;
type SealRelinKeys = ReturnType<SealLibrary['RelinKeys']>;
type SealGaloisKeys = ReturnType<SealLibrary['GaloisKeys']>;

export interface KeyOptions {
  /** Rotation steps the circuit uses (positive = left; negative steps are normalised to N/2 − |k|). @default [] */
  rotationSteps?: readonly number[];
}

/** Evaluation keys as bytes (SEAL format): what a client uploads to a server. */
export interface EvaluationKeyBytes {
  relin: Uint8Array;
  /** Galois keys; null or absent when the circuit rotates nothing. */
  galois?: Uint8Array | null;
}

/** Relinearisation and Galois keys in WASM memory: all a server needs to evaluate. */
export class EvaluationKeys {
  readonly context: CkksContext;
  /** Normalised rotation steps that have a Galois key, sorted. */
  readonly rotationSteps: readonly number[];
  #relin: SealRelinKeys | null;
  #galois: SealGaloisKeys | null;
  readonly #steps: ReadonlySet<number>;

  /** @internal Takes ownership of the SEAL keys. */
  constructor(context: CkksContext, relin: SealRelinKeys, galois: SealGaloisKeys | null, rotationSteps: readonly number[]) {
    this.context = context;
    this.#relin = relin;
    this.#galois = galois;
    this.rotationSteps = Object.freeze([...rotationSteps]);
    this.#steps = new Set(rotationSteps);
  }

  get disposed(): boolean {
    return this.#relin === null;
  }

  /** Approximate WASM memory the keys occupy: their full serialized size (for a server's key-memory limit). */
  get byteSize(): number {
    const n = this.context.polyModulusDegree;
    const k = this.context.params.primes.length;
    const steps = this.rotationSteps.length;
    return kswitchKeysBytes(n, k, 1, 1, false) + (steps > 0 ? kswitchKeysBytes(n, k, steps, n, false) : 0);
  }

  /** Whether a rotation by `steps` (any sign) has its key. */
  hasRotation(steps: number): boolean {
    if (!Number.isSafeInteger(steps) || steps % this.context.slotCount === 0) return false;
    return this.#steps.has(normaliseRotationStep(steps, this.context.slotCount));
  }

  /** @internal */
  relinKeys(what: string): SealRelinKeys {
    if (!this.#relin) throw new CkksError(`${what}: evaluation keys were disposed`);
    return this.#relin;
  }

  /** @internal Galois keys holding `step` (normalised), or a CkksError naming the missing step. */
  galoisKeysFor(step: number, what: string): SealGaloisKeys {
    this.relinKeys(what);
    if (!this.#galois || !this.#steps.has(step)) {
      throw new CkksError(`${what}: no Galois key for rotation step ${step} (keys hold steps [${this.rotationSteps.join(', ')}])`);
    }
    return this.#galois;
  }

  /** The keys in SEAL's full (unseeded) form, e.g. for a server to keep them on disk. */
  serialize(options: SaveOptions = {}): { relin: Uint8Array; galois: Uint8Array | null } {
    const what = 'serialize evaluation keys';
    this.context.assertLive(what);
    const relin = this.relinKeys(what);
    const galois = this.#galois;
    const mode = comprMode(this.context, options, what);
    return {
      relin: callSeal(what, () => relin.saveArray(mode)),
      galois: galois ? callSeal(what, () => galois.saveArray(mode)) : null,
    };
  }

  /** Delete the SEAL keys (idempotent). */
  dispose(): void {
    const relin = this.#relin;
    const galois = this.#galois;
    this.#relin = null;
    this.#galois = null;
    freeSeal(relin, 'dispose evaluation keys');
    freeSeal(galois, 'dispose evaluation keys');
  }
}

/** The client's key material. The secret key never leaves this object except through `saveSecretKey`. */
export class ClientKeys {
  readonly context: CkksContext;
  /** Normalised rotation steps the evaluation keys cover. */
  readonly rotationSteps: readonly number[];
  #generator: SealKeyGenerator | null;
  #secret: SealSecretKey | null;
  #public: SealPublicKey | null;
  #evaluation: EvaluationKeys | null = null;

  /** @internal */
  constructor(context: CkksContext, generator: SealKeyGenerator, secret: SealSecretKey, pub: SealPublicKey, steps: readonly number[]) {
    this.context = context;
    this.#generator = generator;
    this.#secret = secret;
    this.#public = pub;
    this.rotationSteps = Object.freeze([...steps]);
  }

  #live(what: string): { generator: SealKeyGenerator; secret: SealSecretKey; pub: SealPublicKey } {
    this.context.assertLive(what);
    if (!this.#generator || !this.#secret || !this.#public) throw new CkksError(`${what}: client keys were disposed`);
    return { generator: this.#generator, secret: this.#secret, pub: this.#public };
  }

  /** @internal */
  secretKey(what: string): SealSecretKey {
    return this.#live(what).secret;
  }

  /** @internal */
  publicKey(what: string): SealPublicKey {
    return this.#live(what).pub;
  }

  /** In-memory evaluation keys for local evaluation (generated on first call, owned by these client keys). */
  evaluationKeys(): EvaluationKeys {
    const what = 'evaluationKeys';
    const { generator } = this.#live(what);
    if (this.#evaluation && !this.#evaluation.disposed) return this.#evaluation;
    const relin = callSeal(what, () => generator.createRelinKeys());
    let galois: SealGaloisKeys | null = null;
    try {
      if (this.rotationSteps.length > 0) galois = callSeal(what, () => generator.createGaloisKeys(Int32Array.from(this.rotationSteps)));
    } catch (err) {
      freeSeal(relin, what);
      throw err;
    }
    this.#evaluation = new EvaluationKeys(this.context, relin, galois, this.rotationSteps);
    return this.#evaluation;
  }

  /**
   * Fresh evaluation keys serialized in SEAL's seeded form (half the size: the random half of each key is
   * replaced by its seed and regenerated on load). Galois keys are null when there are no rotation steps.
   */
  serializeEvaluationKeys(options: SaveOptions = {}): { relin: Uint8Array; galois: Uint8Array | null } {
    const what = 'serializeEvaluationKeys';
    const { generator } = this.#live(what);
    const mode = comprMode(this.context, options, what);
    const save = (make: () => ReturnType<SealKeyGenerator['createRelinKeysSerializable']>): Uint8Array => {
      const serializable = callSeal(what, make);
      try {
        return callSeal(what, () => serializable.saveArray(mode));
      } finally {
        freeSeal(serializable, what);
      }
    };
    const relin = save(() => generator.createRelinKeysSerializable());
    const galois =
      this.rotationSteps.length > 0 ? save(() => generator.createGaloisKeysSerializable(Int32Array.from(this.rotationSteps))) : null;
    return { relin, galois };
  }

  /** The secret key in SEAL's format, for the client to store (never send it anywhere). */
  saveSecretKey(): Uint8Array {
    const what = 'saveSecretKey';
    const { secret } = this.#live(what);
    const mode = comprMode(this.context, {}, what);
    return callSeal(what, () => secret.saveArray(mode));
  }

  /** Delete every SEAL object (idempotent). */
  dispose(): void {
    const owned = [this.#public, this.#secret, this.#generator];
    const evaluation = this.#evaluation;
    this.#evaluation = null;
    this.#public = null;
    this.#secret = null;
    this.#generator = null;
    evaluation?.dispose();
    for (const o of owned) freeSeal(o, 'dispose client keys');
  }
}

/** Generate a fresh secret key, its public key, and the settings for evaluation keys of exactly `rotationSteps`. */
export function generateKeys(context: CkksContext, options: KeyOptions = {}): ClientKeys {
  const what = 'generateKeys';
  context.assertLive(what);
  const steps = normaliseRotationSteps(options.rotationSteps ?? [], context.slotCount);
  const generator = callSeal(what, () => context.seal.KeyGenerator(context.sealContext));
  return clientKeysFrom(context, generator, steps, what);
}

/** Rebuild client keys from a saved secret key (validated before SEAL reads it). */
export function loadClientKeys(context: CkksContext, secretKey: Uint8Array, options: KeyOptions = {}): ClientKeys {
  const what = 'secret key';
  context.assertLive(what);
  const steps = normaliseRotationSteps(options.rotationSteps ?? [], context.slotCount);
  const header = readSealHeader(secretKey, what);
  const plain = decompress(secretKey, header, secretKeyBytes(context.polyModulusDegree, context.params.primes.length), what);
  inspectSecretKey(plain, context, what);
  const seal = context.seal;
  const sk = callSeal(what, () => seal.SecretKey());
  try {
    callSeal(what, () => sk.loadArray(context.sealContext, plain));
    const generator = callSeal(what, () => seal.KeyGenerator(context.sealContext, sk));
    return clientKeysFrom(context, generator, steps, what);
  } finally {
    freeSeal(sk, what);
  }
}

function clientKeysFrom(context: CkksContext, generator: SealKeyGenerator, steps: number[], what: string): ClientKeys {
  let secret: SealSecretKey | null = null;
  try {
    secret = copySecretKey(context.seal, generator, what);
    const pub = callSeal(what, () => generator.createPublicKey());
    return new ClientKeys(context, generator, secret, pub, steps);
  } catch (err) {
    freeSeal(secret, what);
    freeSeal(generator, what);
    throw err;
  }
}

/**
 * node-seal's KeyGenerator.secretKey() copies the key into a new wrapper but never deletes the temporary it
 * copied from (N × primes × 8 bytes of WASM heap per call); copy from the raw binding and delete it here instead.
 */
function copySecretKey(seal: SealLibrary, generator: SealKeyGenerator, what: string): SealSecretKey {
  const raw = callSeal(what, () => (generator.instance as { secretKey(): SealDeletable }).secretKey());
  try {
    const secret = callSeal(what, () => seal.SecretKey());
    try {
      callSeal(what, () => secret.inject(raw));
    } catch (err) {
      freeSeal(secret, what);
      throw err;
    }
    return secret;
  } finally {
    freeSeal(raw, what);
  }
}

/**
 * Load uploaded evaluation keys for a circuit that rotates by `rotationSteps`. Rejects, with a CkksError naming
 * the problem and before WASM reads anything: malformed or truncated bytes, keys made under other parameters,
 * Galois keys missing a required step or holding steps the circuit does not use (keys for another model).
 */
export function loadEvaluationKeys(context: CkksContext, bytes: EvaluationKeyBytes, options: KeyOptions = {}): EvaluationKeys {
  const what = 'evaluation keys';
  context.assertLive(what);
  if (typeof bytes !== 'object' || bytes === null) throw new CkksError(`${what}: expected { relin, galois }`);
  const steps = normaliseRotationSteps(options.rotationSteps ?? [], context.slotCount);
  const n = context.polyModulusDegree;
  const keyPrimes = context.params.primes.length;

  const relinHeader = readSealHeader(bytes.relin, 'relinearisation keys');
  const relinPlain = decompress(bytes.relin, relinHeader, kswitchKeysBytes(n, keyPrimes, 1, 1, false), 'relinearisation keys');
  inspectKSwitchKeys(relinPlain, context, 'relin', 'relinearisation keys');

  let galoisPlain: Uint8Array | null = null;
  const galoisBytes = bytes.galois ?? null;
  if (steps.length === 0) {
    if (galoisBytes && galoisBytes.length > 0) throw new CkksError('galois keys: given, but the circuit uses no rotations');
  } else {
    if (!galoisBytes || galoisBytes.length === 0)
      throw new CkksError(`galois keys: missing (the circuit rotates by [${steps.join(', ')}])`);
    const header = readSealHeader(galoisBytes, 'galois keys');
    galoisPlain = decompress(galoisBytes, header, kswitchKeysBytes(n, keyPrimes, steps.length, n, false), 'galois keys');
    const info = inspectKSwitchKeys(galoisPlain, context, 'galois', 'galois keys');
    checkGaloisElements(info.galoisElements, steps, n);
  }

  const seal = context.seal;
  const relin = callSeal(what, () => seal.RelinKeys());
  let galois: SealGaloisKeys | null = null;
  try {
    callSeal('relinearisation keys', () => relin.loadArray(context.sealContext, relinPlain));
    if (galoisPlain) {
      const g = callSeal(what, () => seal.GaloisKeys());
      galois = g;
      const gp = galoisPlain;
      callSeal('galois keys', () => g.loadArray(context.sealContext, gp));
      for (const s of steps) {
        if (!callSeal('galois keys', () => g.hasKey(galoisElement(s, n))))
          throw new CkksError(`galois keys: SEAL has no key for step ${s}`);
      }
    }
    return new EvaluationKeys(context, relin, galois, steps);
  } catch (err) {
    freeSeal(relin, what);
    freeSeal(galois, what);
    throw err;
  }
}

/** Exactly the Galois elements of `steps`, or a message naming the missing and unexpected steps. */
function checkGaloisElements(elements: readonly number[], steps: readonly number[], n: number): void {
  const stepOf = new Map(steps.map((s) => [galoisElement(s, n), s]));
  const present = new Set(elements);
  const missing = steps.filter((s) => !present.has(galoisElement(s, n)));
  const extra = elements.filter((e) => !stepOf.has(e));
  if (missing.length === 0 && extra.length === 0) return;
  const parts: string[] = [];
  if (missing.length > 0) parts.push(`missing rotation steps [${missing.join(', ')}]`);
  if (extra.length > 0) parts.push(`${extra.length} key(s) for rotations this circuit does not use`);
  throw new CkksError(`galois keys: ${parts.join('; ')} (keys made for another model?)`);
}
