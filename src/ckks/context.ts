/**
 * A CKKS context: the SEAL context for one parameter set plus the encoder and evaluator every operation needs,
 * the modulus chain (which prime each level drops) and the parms id of every level. Owns every SEAL object it
 * creates; `dispose()` deletes them. The parameters themselves (chain, primes, scale bounds) are the SEAL-free
 * CkksParameters of src/ckks/params/; this module is where they meet SEAL.
 */
import { CkksError } from '../errors.js';
import { CkksParameters, type CkksParametersLiteral } from './params/index.js';
import { callSeal, freeSeal, loadSeal, type SealDeletable, type SealLibrary } from './wasm.js';
import type { WireLayout } from './wire-format.js';

type SealContext = ReturnType<SealLibrary['Context']>;
type SealParms = ReturnType<SealLibrary['EncryptionParameters']>;
type SealEncoder = ReturnType<SealLibrary['CKKSEncoder']>;
type SealEvaluator = ReturnType<SealLibrary['Evaluator']>;
/** SEAL's parms_id of one level of the chain (node-seal ParmsIdType). */
export type SealParmsId = ReturnType<SealLibrary['ParmsIdType']>;
/** SEAL's memory pool handle (node-seal returns a fresh wrapper on every `MemoryPoolHandle.global` read). */
export type SealPool = SealLibrary['MemoryPoolHandle']['global'];

export class CkksContext implements WireLayout {
  /** The checked parameters (chain, primes, scale bounds). */
  readonly params: CkksParameters;
  readonly polyModulusDegree: number;
  /** N/2. */
  readonly slotCount: number;
  /** Level of a fresh encryption: number of data primes − 1. */
  readonly maxLevel: number;
  /** Chain index of the key level (all primes, special one included): maxLevel + 1. */
  readonly keyLevel: number;

  /** @internal node-seal library (only src/ckks uses it). */
  readonly seal: SealLibrary;
  /** @internal */
  readonly sealContext: SealContext;
  /** @internal */
  readonly encoder: SealEncoder;
  /** @internal */
  readonly evaluator: SealEvaluator;
  /** @internal One pool handle for every allocation (reading `MemoryPoolHandle.global` allocates a wrapper). */
  readonly pool: SealPool;

  readonly #parms: SealParms;
  readonly #parmsIds: SealParmsId[];
  readonly #levelOfId: Map<string, number>;
  #disposed = false;

  private constructor(seal: SealLibrary, params: CkksParameters) {
    this.seal = seal;
    this.params = params;
    this.polyModulusDegree = params.polyModulusDegree;
    this.slotCount = params.slotCount;
    this.maxLevel = params.maxLevel;
    this.keyLevel = this.maxLevel + 1;

    const created: SealDeletable[] = [];
    try {
      this.#parms = callSeal('context', () => seal.EncryptionParameters(seal.SchemeType.ckks));
      created.push(this.#parms);
      this.sealContext = buildSealContext(seal, this.#parms, params);
      created.push(this.sealContext);
      this.encoder = callSeal('context', () => seal.CKKSEncoder(this.sealContext));
      created.push(this.encoder);
      this.evaluator = callSeal('context', () => seal.Evaluator(this.sealContext));
      created.push(this.evaluator);
      this.pool = callSeal('context', () => seal.MemoryPoolHandle.global);
      this.#parmsIds = this.#walkChain(created);
    } catch (err) {
      for (const o of created.reverse()) freeSeal(o, 'context');
      throw err;
    }
    this.#levelOfId = new Map(this.#parmsIds.map((id, level) => [parmsIdHex(id.values), level]));
    const key = callSeal('context', () => this.sealContext.keyParmsId);
    try {
      this.#levelOfId.set(
        callSeal('context', () => parmsIdHex(key.values)),
        this.keyLevel,
      );
    } finally {
      freeSeal(key, 'context');
    }
  }

  /** Build a context (loads node-seal on first use). Throws a CkksError naming what is wrong with `params`. */
  static async create(params: CkksParametersLiteral | CkksParameters): Promise<CkksContext> {
    const checked = CkksParameters.from(params);
    return new CkksContext(await loadSeal(), checked);
  }

  /** parms ids of levels 0 … maxLevel, walking SEAL's chain from the first data level down. */
  #walkChain(created: SealDeletable[]): SealParmsId[] {
    const ids: SealParmsId[] = new Array(this.maxLevel + 1);
    let data = callSeal('context', () => this.sealContext.firstContextData);
    for (let level = this.maxLevel; ; level--) {
      const current = data;
      const index = callSeal('context', () => current.chainIndex);
      if (index !== level) {
        freeSeal(current, 'context');
        throw new CkksError(`context: SEAL's chain index ${index} at level ${level} (unexpected modulus chain)`);
      }
      const id = callSeal('context', () => current.parmsId);
      created.push(id);
      ids[level] = id;
      if (level === 0) {
        freeSeal(current, 'context');
        break;
      }
      data = callSeal('context', () => current.nextContextData);
      freeSeal(current, 'context');
    }
    return ids;
  }

  /** Throw a CkksError unless SEAL accepts `scale` at `level` (CkksParameters.sealAcceptsScale). */
  checkScale(level: number, scale: number, what: string): void {
    if (!this.params.sealAcceptsScale(level, scale)) {
      const shown = scale > 0 && Number.isFinite(scale) ? `2^${Math.log2(scale).toFixed(2)}` : String(scale);
      throw new CkksError(
        `${what}: scale ${shown} is out of bounds at level ${level} (SEAL needs log2(scale) < ${this.params.levelBits(level)})`,
      );
    }
  }

  /** Chain level of a parms id given as the hex of its 32 serialized bytes (keyLevel for keys), or undefined. */
  levelOfParmsId(hex: string): number | undefined {
    return this.#levelOfId.get(hex);
  }

  /** The primes of the modulus at a chain level: level + 1 data primes, or all of them at keyLevel. */
  primesAtLevel(level: number): readonly bigint[] {
    return level >= this.keyLevel ? this.params.primes : this.params.primes.slice(0, level + 1);
  }

  /** @internal SEAL's parms id of a data level (owned by this context). */
  parmsIdAt(level: number): SealParmsId {
    this.assertLive('parmsIdAt');
    const id = this.#parmsIds[level];
    if (!id) throw new CkksError(`level ${level} is outside 0…${this.maxLevel}`);
    return id;
  }

  get disposed(): boolean {
    return this.#disposed;
  }

  /** @internal Throw if this context was disposed. */
  assertLive(what: string): void {
    if (this.#disposed) throw new CkksError(`${what}: the CKKS context was disposed`);
  }

  /** Delete every SEAL object this context created. Objects made with it (keys, ciphertexts) must be freed first. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    const what = 'dispose context';
    for (const id of this.#parmsIds) freeSeal(id, what);
    if (typeof (this.pool as Partial<SealDeletable>).delete === 'function') freeSeal(this.pool as SealDeletable, what);
    freeSeal(this.encoder, what);
    freeSeal(this.evaluator, what);
    freeSeal(this.sealContext, what);
    freeSeal(this.#parms, what);
  }
}

/** Hex of a parms id's 4 little-endian u64 words, i.e. of its 32 serialized bytes. */
export function parmsIdHex(values: BigUint64Array): string {
  const view = new DataView(new ArrayBuffer(32));
  for (let i = 0; i < 4; i++) view.setBigUint64(8 * i, values[i] ?? 0n, true);
  return Array.from(new Uint8Array(view.buffer), (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Set N and the chain on `parms` and build a SEAL context (tc128, expanded modulus chain); the primes SEAL picks
 * must be the ones CkksParameters predicted. SEAL does not throw on invalid parameters, it reports
 * parametersSet() = false; node-seal 6.0.3 does not expose parameter_error_message(), so CkksParameters.from's
 * checks are what explain a rejection.
 */
function buildSealContext(seal: SealLibrary, parms: SealParms, p: CkksParameters): SealContext {
  const what = `parameters N=${p.polyModulusDegree} [${p.coeffModulusBits.join(', ')}]`;
  callSeal(what, () => parms.setPolyModulusDegree(p.polyModulusDegree));
  const vector = callSeal(what, () => seal.CoeffModulus.Create(p.polyModulusDegree, Int32Array.from(p.coeffModulusBits)));
  try {
    const primes = callSeal(what, () => Array.from(vector.toArray() as BigUint64Array));
    if (primes.join(',') !== p.primes.join(',')) {
      throw new CkksError(`${what}: SEAL picked primes [${primes.join(', ')}], not the predicted [${p.primes.join(', ')}]`);
    }
    callSeal(what, () => parms.setCoeffModulus(vector));
  } finally {
    freeSeal(vector, what);
  }
  const context = callSeal(what, () => seal.Context(parms, true, seal.SecurityLevel.tc128));
  const ok = callSeal(what, () => context.parametersSet() && context.usingKeyswitching);
  if (!ok) {
    freeSeal(context, what);
    throw new CkksError(`${what}: SEAL rejected these parameters (parametersSet() is false or no key-switching prime)`);
  }
  return context;
}

/** The primes SEAL's own `CoeffModulus.Create(N, bits)` picks (for checking CkksParameters against SEAL). */
export async function sealCoeffModulus(polyModulusDegree: number, coeffModulusBits: readonly number[]): Promise<bigint[]> {
  const seal = await loadSeal();
  const what = `parameters: N=${polyModulusDegree}, primes of [${coeffModulusBits.join(', ')}] bits`;
  const vector = callSeal(what, () => seal.CoeffModulus.Create(polyModulusDegree, Int32Array.from(coeffModulusBits)));
  try {
    return callSeal(what, () => Array.from(vector.toArray() as BigUint64Array));
  } finally {
    freeSeal(vector, what);
  }
}

/**
 * Check parameters fully: CkksParameters.from's checks, then SEAL builds a context from them (and picks the
 * predicted primes). Returns the checked parameters; throws a CkksError naming the problem.
 */
export async function checkParameters(params: CkksParametersLiteral | CkksParameters): Promise<CkksParameters> {
  const checked = CkksParameters.from(params);
  const seal = await loadSeal();
  const parms = callSeal('parameters', () => seal.EncryptionParameters(seal.SchemeType.ckks));
  try {
    freeSeal(buildSealContext(seal, parms, checked), 'parameters');
  } finally {
    freeSeal(parms, 'parameters');
  }
  return checked;
}
