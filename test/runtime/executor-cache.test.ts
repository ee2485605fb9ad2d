/**
 * The executor's plaintext cache under a bounded backend memory (SEAL's WASM heap): below the ceiling every
 * plaintext is encoded once; past it nothing more is cached and each plaintext is encoded on use and freed — with
 * the same outputs. A backend that can spill (SEAL) keeps the plaintexts past the ceiling outside its heap and
 * loads them back instead of encoding them again.
 */
import { describe, expect, it } from 'vitest';
import { PLAINTEXT_CACHE_HEAP_CEILING, PreparedCircuit, encodeInput } from '../../src/runtime/executor.js';
import { SealBackend } from '../../src/runtime/seal-backend.js';
import { SimBackend } from '../../src/runtime/sim-backend.js';
import type { PlainHandle } from '../../src/runtime/backend.js';
import { denseCircuit, vector } from '../server/fixtures.js';

/** The sim backend with a memory gauge the test sets, counting encodes and frees. */
class GaugedBackend extends SimBackend {
  heap = 0;
  encodes = 0;
  memoryBytes(): number {
    return this.heap;
  }
  override encode(values: Float64Array, level: number, scale: number): PlainHandle {
    this.encodes++;
    return super.encode(values, level, scale);
  }
}

describe('plaintext cache and the backend memory ceiling', () => {
  const circuit = denseCircuit('dense', 16, 3, 4096);
  const run = (heap: number) => {
    const be = new GaugedBackend({ params: circuit.params });
    be.heap = heap;
    const prepared = new PreparedCircuit(circuit, be);
    prepared.encodeAll();
    const afterPrepare = be.encodes;
    const outputs: Float64Array[] = [];
    for (let n = 0; n < 2; n++) {
      const ct = be.encrypt(encodeInput(circuit, vector(16, n)), circuit.inputScale);
      const { output } = prepared.evaluate(ct);
      outputs.push(be.decrypt(output));
      be.free(ct);
      be.free(output);
    }
    prepared.dispose();
    return { afterPrepare, afterRuns: be.encodes, outputs };
  };

  it('below the ceiling: encoded once, in encodeAll; past it: encoded on every use, same outputs', () => {
    const below = run(0);
    const past = run(PLAINTEXT_CACHE_HEAP_CEILING + 1);
    expect(below.afterPrepare).toBeGreaterThan(0);
    expect(below.afterRuns).toBe(below.afterPrepare);
    expect(past.afterPrepare).toBe(0);
    expect(past.afterRuns).toBe(2 * below.afterPrepare);
    past.outputs.forEach((o, n) => expect(Array.from(o)).toEqual(Array.from(below.outputs[n]!)));
  });
});

describe("plaintexts spilled outside SEAL's heap", () => {
  it('past the ceiling: encoded once into bytes, loaded on use, the same ciphertext out as when cached', async () => {
    const circuit = denseCircuit('dense', 16, 3, 4096);
    const be = await SealBackend.create(circuit.params, { rotationSteps: circuit.rotationSteps });
    try {
      let heap = 0;
      let encodes = 0;
      let unspills = 0;
      const encode = be.encode.bind(be);
      const unspill = be.unspill.bind(be);
      be.memoryBytes = () => heap;
      be.encode = (values, level, scale) => (encodes++, encode(values, level, scale));
      be.unspill = (s) => (unspills++, unspill(s));
      const input = be.encrypt(encodeInput(circuit, vector(16, 1)), circuit.inputScale);
      const evaluate = () => {
        const prepared = new PreparedCircuit(circuit, be);
        prepared.encodeAll();
        const before = encodes;
        const { output } = prepared.evaluate(input);
        const again = prepared.evaluate(input).output;
        const out = {
          values: be.decrypt(output),
          again: be.decrypt(again),
          encodesInRuns: encodes - before,
          bytes: prepared.plaintextBytes,
        };
        be.free(output);
        be.free(again);
        prepared.dispose();
        return out;
      };
      const cached = evaluate();
      expect(cached.bytes.cached).toBeGreaterThan(0);
      expect(cached.bytes.spilled).toBe(0);
      expect(unspills).toBe(0);
      heap = PLAINTEXT_CACHE_HEAP_CEILING + 1;
      const spilled = evaluate();
      expect(spilled.bytes.cached).toBe(0);
      expect(spilled.bytes.spilled).toBeGreaterThan(0);
      expect(spilled.encodesInRuns).toBe(0);
      expect(unspills).toBeGreaterThan(0);
      expect(Array.from(spilled.values)).toEqual(Array.from(cached.values));
      expect(Array.from(spilled.again)).toEqual(Array.from(cached.values));
      be.free(input);
      expect(be.liveHandles).toBe(0);
    } finally {
      be.dispose();
    }
  });
});
