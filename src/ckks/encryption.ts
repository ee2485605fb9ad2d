/**
 * Encryption and decryption with a client's keys: public-key or symmetric (secret-key) encryption, and the
 * seeded symmetric form for sending (SEAL's encrypt_symmetric serializable: the random polynomial is replaced by
 * its seed, so the bytes are about half a ciphertext).
 */
import { CkksError } from '../errors.js';
import { Ciphertext, comprMode, type SaveOptions } from './ciphertext.js';
import type { CkksContext } from './context.js';
import type { ClientKeys } from './keys.js';
import { encodePlaintext, type Plaintext } from './plaintext.js';
import { callSeal, freeSeal, type SealLibrary } from './wasm.js';

type SealEncryptor = ReturnType<SealLibrary['Encryptor']>;
type SealDecryptor = ReturnType<SealLibrary['Decryptor']>;

export class CkksEncryptor {
  readonly context: CkksContext;
  #encryptor: SealEncryptor | null;
  #decryptor: SealDecryptor | null;

  /** An encryptor/decryptor for `keys` (which must outlive it). */
  constructor(keys: ClientKeys) {
    const what = 'encryptor';
    this.context = keys.context;
    const seal = keys.context.seal;
    const sealContext = keys.context.sealContext;
    const pk = keys.publicKey(what);
    const sk = keys.secretKey(what);
    this.#encryptor = callSeal(what, () => seal.Encryptor(sealContext, pk, sk));
    try {
      this.#decryptor = callSeal(what, () => seal.Decryptor(sealContext, sk));
    } catch (err) {
      freeSeal(this.#encryptor, what);
      throw err;
    }
  }

  #live(what: string): { encryptor: SealEncryptor; decryptor: SealDecryptor } {
    this.context.assertLive(what);
    if (!this.#encryptor || !this.#decryptor) throw new CkksError(`${what}: encryptor was disposed`);
    return { encryptor: this.#encryptor, decryptor: this.#decryptor };
  }

  /** Encode at the top level, run `fn` on the plaintext, free it. */
  #withPlaintext<T>(values: Float64Array, scale: number, fn: (pt: Plaintext) => T): T {
    const pt = encodePlaintext(this.context, values, this.context.maxLevel, scale);
    try {
      return fn(pt);
    } finally {
      pt.free();
    }
  }

  #encrypt(values: Float64Array, scale: number, what: string, symmetric: boolean): Ciphertext {
    const { encryptor } = this.#live(what);
    const ctx = this.context;
    return this.#withPlaintext(values, scale, (pt) => {
      const ct = callSeal(what, () => ctx.seal.CipherText({ pool: ctx.pool }));
      try {
        const plain = pt.sealObject(what);
        callSeal(what, () => (symmetric ? encryptor.encryptSymmetric(plain, ct, ctx.pool) : encryptor.encrypt(plain, ct, ctx.pool)));
        return new Ciphertext(ctx, ct, ctx.maxLevel, scale);
      } catch (err) {
        freeSeal(ct, what);
        throw err;
      }
    });
  }

  /** Public-key encryption at the top level. */
  encrypt(values: Float64Array, scale: number): Ciphertext {
    return this.#encrypt(values, scale, 'encrypt', false);
  }

  /** Secret-key (symmetric) encryption at the top level: less noise and cheaper than public-key encryption. */
  encryptSymmetric(values: Float64Array, scale: number): Ciphertext {
    return this.#encrypt(values, scale, 'encryptSymmetric', true);
  }

  /** Symmetric encryption straight to bytes in SEAL's seeded form (about half the size): the client's upload. */
  encryptSerialized(values: Float64Array, scale: number, options: SaveOptions = {}): Uint8Array {
    const what = 'encryptSerialized';
    const { encryptor } = this.#live(what);
    const mode = comprMode(this.context, options, what);
    return this.#withPlaintext(values, scale, (pt) => {
      const plain = pt.sealObject(what);
      const serializable = callSeal(what, () => encryptor.encryptSymmetricSerializable(plain, this.context.pool));
      try {
        return callSeal(what, () => serializable.saveArray(mode));
      } finally {
        freeSeal(serializable, what);
      }
    });
  }

  /** Decrypt and decode all N/2 slots. */
  decrypt(ct: Ciphertext): Float64Array {
    const what = 'decrypt';
    const { decryptor } = this.#live(what);
    if (ct.context !== this.context) throw new CkksError(`${what}: ciphertext belongs to another CKKS context`);
    const sealCt = ct.sealObject(what);
    const ctx = this.context;
    const pt = callSeal(what, () => ctx.seal.PlainText({ pool: ctx.pool }));
    try {
      callSeal(what, () => decryptor.decrypt(sealCt, pt));
      return callSeal(what, () => ctx.encoder.decode(pt, ctx.pool));
    } finally {
      freeSeal(pt, what);
    }
  }

  /** Delete the SEAL encryptor and decryptor (idempotent). */
  dispose(): void {
    const encryptor = this.#encryptor;
    const decryptor = this.#decryptor;
    this.#encryptor = null;
    this.#decryptor = null;
    freeSeal(encryptor, 'dispose encryptor');
    freeSeal(decryptor, 'dispose encryptor');
  }
}
