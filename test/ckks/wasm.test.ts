import { beforeAll, describe, expect, it } from 'vitest';
import { CkksError } from '../../src/errors.js';
import { callSeal, freeSeal, loadSeal, wasmHeapBytes, wasmStatus, withStackPointerExport, type SealLibrary } from '../../src/ckks/wasm.js';

let seal: SealLibrary;
beforeAll(async () => {
  seal = await loadSeal();
});

describe('loadSeal and the guarded WASM instance', () => {
  it('loads node-seal 6.0.3 once per thread and reads the WASM heap', async () => {
    expect(await loadSeal()).toBe(seal);
    expect(seal.Version).toBe('6.0.3');
    expect(wasmHeapBytes()).toBeGreaterThanOrEqual(16 * 2 ** 20);
    expect(wasmStatus().stackRestored).toBe(true);
  });

  it('survives 600 SEAL exceptions (the unpatched module dies after ~56) and keeps computing', () => {
    const before = wasmStatus().faults;
    for (let i = 0; i < 600; i++) {
      expect(() => callSeal('probe', () => seal.CoeffModulus.Create(8192, Int32Array.from([20, 20, 20, 20, 20, 20])))).toThrow(
        /probe: failed to find enough qualifying primes/,
      );
    }
    expect(wasmStatus()).toMatchObject({ faults: before + 600, broken: null });
    const v = callSeal('ok', () => seal.CoeffModulus.Create(8192, Int32Array.from([60, 40, 60])));
    expect(Array.from(v.toArray() as BigUint64Array).map(String)).toEqual(['1152921504606748673', '1099511480321', '1152921504606830593']);
    v.delete();
  });

  it('turns non-Error throws (numbers, strings) into CkksErrors', () => {
    expect(() =>
      callSeal('str', () => {
        // eslint-disable-next-line @typescript-eslint/only-throw-error -- WASM throws non-Errors; this is what the test is about
        throw 'boom';
      }),
    ).toThrow(CkksError);
    expect(() =>
      callSeal('str', () => {
        // eslint-disable-next-line @typescript-eslint/only-throw-error -- WASM throws non-Errors; this is what the test is about
        throw 'boom';
      }),
    ).toThrow('str: boom');
  });

  it('frees SEAL objects through freeSeal, turning a failing delete into a CkksError', () => {
    const pt = seal.PlainText();
    freeSeal(pt);
    expect(pt.instance).toBeUndefined(); // node-seal drops the handle once deleted
    expect(() => freeSeal(null)).not.toThrow();
    expect(() =>
      freeSeal(
        {
          delete: () => {
            // eslint-disable-next-line @typescript-eslint/only-throw-error -- WASM throws non-Errors; this is what the test is about
            throw 'boom';
          },
        },
        'free thing',
      ),
    ).toThrow(new CkksError('free thing: boom'));
  });

  it('only patches modules of the Emscripten shape', () => {
    expect(withStackPointerExport(new Uint8Array([1, 2, 3]))).toBeNull();
    // a valid module with no globals: (module (func))
    const empty = Uint8Array.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 4, 1, 0x60, 0, 0, 3, 2, 1, 0, 10, 4, 1, 2, 0, 0x0b]);
    expect(withStackPointerExport(empty)).toBeNull();
  });
});
