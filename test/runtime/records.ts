/** Checks shared by the tests that run SEAL on worker threads. */
import { expect } from 'vitest';
import type { Circuit } from '../../src/circuit/index.js';
import type { InferenceRecord } from '../../src/runtime/inference.js';

/** Each record has the simulator's prediction, logits within 0.05 of it, and one timing per circuit stage. */
export function expectSimRecords(circuit: Circuit, records: readonly InferenceRecord[], exact: readonly InferenceRecord[]): void {
  expect(records).toHaveLength(exact.length);
  records.forEach((rec, i) => {
    expect(rec.prediction).toBe(exact[i]!.prediction);
    for (let j = 0; j < rec.logits.length; j++) expect(Math.abs(rec.logits[j]! - exact[i]!.logits[j]!)).toBeLessThan(0.05);
    expect(rec.timings.map((t) => t.name)).toEqual(['encode+encrypt', ...circuit.stages.map((s) => s.name), 'decrypt+decode']);
  });
}
