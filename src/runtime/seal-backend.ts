/**
 * The `seal` backend: real CKKS through node-seal, via src/ckks (the only code that touches SEAL). Levels and
 * scales follow SEAL exactly; every precondition is checked before WASM is called and reported as a
 * RuntimeError naming the op. Handles are src/ckks Ciphertext/Plaintext objects owned by this backend: `free`
 * deletes one, `dispose` deletes all that are left.
 */
import { CkksError, PannError } from '../errors.js';
import {
  Ciphertext,
  CkksContext,
  CkksEncryptor,
  CkksEvaluator,
  Plaintext,
  encodeConstant,
  encodePlaintext,
  generateKeys,
  loadCiphertext,
  loadPlaintext,
  savePlaintext,
  type SavedPlaintext,
  loadClientKeys,
  saveCiphertext,
  type CiphertextExpectation,
  type CkksParameters,
  type CkksParametersLiteral,
  type ClientKeys,
  type EvaluationKeys,
  type SaveOptions,
  wasmHeapBytes,
} from '../ckks/index.js';
import type { Backend, CipherHandle, PlainHandle, SpilledPlain } from './backend.js';
import { RuntimeError } from './errors.js';

export interface SealBackendKeys {
  /** The client's keys: encrypt/decrypt, and their evaluation keys unless `evaluationKeys` is given. @default none (a server) */
  clientKeys?: ClientKeys;
  /** Relinearisation and Galois keys (all a server has). @default clientKeys.evaluationKeys() when clientKeys is given */
  evaluationKeys?: EvaluationKeys;
  /** Encrypt with the secret key (symmetric: less noise, faster) instead of the public key. @default false */
  symmetricEncryption?: boolean;
}

export class SealBackend implements Backend {
  readonly kind = 'seal' as const;
  readonly context: CkksContext;
  readonly slotCount: number;
  readonly maxLevel: number;
  readonly primes: readonly number[];
  /** Ops that need no keys. */
  readonly #evaluator: CkksEvaluator;
  /** mul and rotate: built on first use, so a client that only encrypts never generates evaluation keys. */
  #keyed: CkksEvaluator | null = null;
  readonly #keySource: () => EvaluationKeys | null;
  readonly #encryptor: CkksEncryptor | null;
  readonly #symmetric: boolean;
  readonly #live = new Set<Ciphertext | Plaintext>();
  /** Objects this backend created for itself (SealBackend.create) and disposes. */
  readonly #owned: { dispose(): void }[] = [];
  #disposed = false;

  /** A backend over `context` with the given keys (the caller keeps ownership of context and keys). */
  constructor(context: CkksContext, keys: SealBackendKeys = {}) {
    this.context = context;
    this.slotCount = context.slotCount;
    this.maxLevel = context.maxLevel;
    this.primes = context.params.primeValues;
    this.#symmetric = keys.symmetricEncryption ?? false;
    const { evaluationKeys, clientKeys } = keys;
    if (evaluationKeys && evaluationKeys.context !== context)
      throw new RuntimeError('seal backend: evaluation keys belong to another CKKS context');
    if (clientKeys && clientKeys.context !== context) throw new RuntimeError('seal backend: client keys belong to another CKKS context');
    this.#keySource = () => evaluationKeys ?? clientKeys?.evaluationKeys() ?? null;
    try {
      this.#evaluator = new CkksEvaluator(context);
      this.#encryptor = clientKeys ? new CkksEncryptor(clientKeys) : null;
    } catch (err) {
      throw runtimeError(err, 'seal backend');
    }
  }

  /**
   * A self-contained backend for local runs: context, keys with Galois keys for exactly `rotationSteps` (fresh,
   * or rebuilt from a saved `secretKey`), all owned and disposed by the backend.
   */
  static async create(
    params: CkksParametersLiteral | CkksParameters,
    options: { rotationSteps?: readonly number[]; secretKey?: Uint8Array } = {},
  ): Promise<SealBackend> {
    let context: CkksContext | null = null;
    let keys: ClientKeys | null = null;
    try {
      context = await CkksContext.create(params);
      const keyOptions = { rotationSteps: options.rotationSteps ?? [] };
      keys = options.secretKey ? loadClientKeys(context, options.secretKey, keyOptions) : generateKeys(context, keyOptions);
      // generated now, so setup timings include them and the first inference does not
      const backend = new SealBackend(context, { clientKeys: keys, evaluationKeys: keys.evaluationKeys() });
      backend.#owned.push(keys, context);
      return backend;
    } catch (err) {
      keys?.dispose();
      context?.dispose();
      throw runtimeError(err, 'seal backend');
    }
  }

  /** Run a src/ckks call, turning its errors into RuntimeErrors. */
  #run<T>(what: string, fn: () => T): T {
    if (this.#disposed) throw new RuntimeError(`${what}: the seal backend was disposed`);
    try {
      return fn();
    } catch (err) {
      throw runtimeError(err, what);
    }
  }

  #withKeys(): CkksEvaluator {
    this.#keyed ??= new CkksEvaluator(this.context, this.#keySource());
    return this.#keyed;
  }

  #track<T extends Ciphertext | Plaintext>(h: T): T {
    this.#live.add(h);
    return h;
  }

  #ct(h: CipherHandle, what: string): Ciphertext {
    if (!(h instanceof Ciphertext) || h.context !== this.context) throw new RuntimeError(`${what}: not a ciphertext of this seal backend`);
    if (h.freed || !this.#live.has(h)) throw new RuntimeError(`${what}: ciphertext handle was freed`);
    return h;
  }

  #pt(h: PlainHandle, what: string): Plaintext {
    if (!(h instanceof Plaintext) || h.context !== this.context) throw new RuntimeError(`${what}: not a plaintext of this seal backend`);
    if (h.freed || !this.#live.has(h)) throw new RuntimeError(`${what}: plaintext handle was freed`);
    return h;
  }

  #needEncryptor(what: string, key: string): CkksEncryptor {
    if (!this.#encryptor) throw new RuntimeError(`${what}: this seal backend has no ${key} (evaluation-only, e.g. on a server)`);
    return this.#encryptor;
  }

  /** SEAL's WASM heap (it only grows: its high-water mark). */
  memoryBytes(): number {
    return wasmHeapBytes();
  }

  encode(values: Float64Array, level: number, scale: number): PlainHandle {
    return this.#run('encode', () => this.#track(encodePlaintext(this.context, values, level, scale)));
  }

  spill(p: PlainHandle): SpilledPlain {
    const pt = this.#pt(p, 'spill');
    return this.#run('spill', () => {
      const saved = savePlaintext(pt);
      return { bytes: saved.data.byteLength, saved };
    });
  }

  unspill(s: SpilledPlain): PlainHandle {
    const saved = (s as { saved?: SavedPlaintext }).saved;
    if (!saved) throw new RuntimeError('unspill: not a plaintext spilled by a seal backend');
    return this.#run('unspill', () => this.#track(loadPlaintext(this.context, saved)));
  }

  encodeConstant(value: number, level: number, scale: number): PlainHandle {
    return this.#run('encodeConstant', () => this.#track(encodeConstant(this.context, value, level, scale)));
  }

  encrypt(values: Float64Array, scale: number): CipherHandle {
    const enc = this.#needEncryptor('encrypt', this.#symmetric ? 'secret key' : 'public key');
    return this.#run('encrypt', () => this.#track(this.#symmetric ? enc.encryptSymmetric(values, scale) : enc.encrypt(values, scale)));
  }

  decrypt(ct: CipherHandle): Float64Array {
    const enc = this.#needEncryptor('decrypt', 'secret key');
    return this.#run('decrypt', () => enc.decrypt(this.#ct(ct, 'decrypt')));
  }

  add(a: CipherHandle, b: CipherHandle): CipherHandle {
    return this.#run('add', () => this.#track(this.#evaluator.add(this.#ct(a, 'add'), this.#ct(b, 'add'))));
  }

  addInPlace(a: CipherHandle, b: CipherHandle): void {
    this.#run('addInPlace', () => this.#evaluator.addInPlace(this.#ct(a, 'addInPlace'), this.#ct(b, 'addInPlace')));
  }

  sub(a: CipherHandle, b: CipherHandle): CipherHandle {
    return this.#run('sub', () => this.#track(this.#evaluator.sub(this.#ct(a, 'sub'), this.#ct(b, 'sub'))));
  }

  negate(a: CipherHandle): CipherHandle {
    return this.#run('negate', () => this.#track(this.#evaluator.negate(this.#ct(a, 'negate'))));
  }

  addPlain(a: CipherHandle, p: PlainHandle): CipherHandle {
    return this.#run('addPlain', () => this.#track(this.#evaluator.addPlain(this.#ct(a, 'addPlain'), this.#pt(p, 'addPlain'))));
  }

  mulPlain(a: CipherHandle, p: PlainHandle): CipherHandle {
    return this.#run('mulPlain', () => this.#track(this.#evaluator.mulPlain(this.#ct(a, 'mulPlain'), this.#pt(p, 'mulPlain'))));
  }

  mul(a: CipherHandle, b: CipherHandle): CipherHandle {
    return this.#run('mul', () => this.#track(this.#withKeys().mul(this.#ct(a, 'mul'), this.#ct(b, 'mul'))));
  }

  rescale(a: CipherHandle): CipherHandle {
    return this.#run('rescale', () => this.#track(this.#evaluator.rescale(this.#ct(a, 'rescale'))));
  }

  dropToLevel(a: CipherHandle, level: number): CipherHandle {
    return this.#run('dropToLevel', () => this.#track(this.#evaluator.dropToLevel(this.#ct(a, 'dropToLevel'), level)));
  }

  rotate(a: CipherHandle, steps: number): CipherHandle {
    return this.#run('rotate', () => this.#track(this.#withKeys().rotate(this.#ct(a, 'rotate'), steps)));
  }

  setScale(a: CipherHandle, scale: number): void {
    this.#run('setScale', () => this.#evaluator.setScale(this.#ct(a, 'setScale'), scale));
  }

  /** Take ownership of a ciphertext made elsewhere under this backend's context (e.g. loaded from bytes). */
  adopt(ct: Ciphertext): CipherHandle {
    return this.#run('adopt', () => {
      if (!(ct instanceof Ciphertext) || ct.context !== this.context)
        throw new RuntimeError('adopt: ciphertext belongs to another CKKS context');
      if (ct.freed) throw new RuntimeError('adopt: ciphertext was freed');
      return this.#track(ct);
    });
  }

  /** Load a serialized ciphertext (validated before SEAL reads it) as a handle of this backend. */
  loadCiphertext(bytes: Uint8Array, expect: CiphertextExpectation = {}): CipherHandle {
    return this.#run('loadCiphertext', () => this.#track(loadCiphertext(this.context, bytes, expect)));
  }

  /** Serialize a ciphertext handle in SEAL's format. */
  saveCiphertext(h: CipherHandle, options: SaveOptions = {}): Uint8Array {
    return this.#run('saveCiphertext', () => saveCiphertext(this.#ct(h, 'saveCiphertext'), options));
  }

  /** Number of ciphertext and plaintext handles still alive (for leak checks). */
  get liveHandles(): number {
    return this.#live.size;
  }

  free(h: CipherHandle | PlainHandle): void {
    if (!(h instanceof Ciphertext || h instanceof Plaintext) || h.context !== this.context) {
      throw new RuntimeError('free: not a handle of this seal backend');
    }
    h.free();
    this.#live.delete(h);
  }

  dispose(): void {
    if (this.#disposed) return;
    for (const h of this.#live) h.free();
    this.#live.clear();
    this.#encryptor?.dispose();
    for (const o of this.#owned) o.dispose();
    this.#disposed = true;
  }
}

/** CkksErrors (and anything else) from src/ckks become RuntimeErrors; other PannErrors pass through. */
function runtimeError(err: unknown, what: string): unknown {
  if (err instanceof CkksError) return new RuntimeError(err.message, { cause: err });
  if (err instanceof PannError) return err;
  return new RuntimeError(`${what}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}
