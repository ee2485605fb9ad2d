/**
 * The executor's plaintext cache under a bounded backend memory (SEAL's WASM heap): below the ceiling every
 * plaintext is encoded once; past it nothing more is cached and each plaintext is encoded on use and freed — with
 * the same outputs.
 */
import { describe, expect, it } from 'vitest';
import { PLAINTEXT_CACHE_HEAP_CEILING, PreparedCircuit, encodeInput } from '../../src/runtime/executor.js';
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
