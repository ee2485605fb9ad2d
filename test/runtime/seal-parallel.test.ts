import { describe, expect, it } from 'vitest';
import { compileNetwork } from '../../src/compiler/compile.js';
import { InputError } from '../../src/errors.js';
import { runSim } from '../../src/runtime/inference.js';
import { runSealParallel, splitShares } from '../../src/runtime/seal-parallel.js';
import { inputs, provider, tinyModel } from '../compiler/fixtures.js';
import { expectSimRecords } from './records.js';

describe('splitShares', () => {
  it('gives each worker contiguous whole batches, as even as possible, and never an empty share', () => {
    expect(splitShares(10, 1, 2)).toEqual([
      { start: 0, count: 5 },
      { start: 5, count: 5 },
    ]);
    expect(splitShares(7, 1, 3)).toEqual([
      { start: 0, count: 3 },
      { start: 3, count: 2 },
      { start: 5, count: 2 },
    ]);
    // 3 batches of 4 (the last one short) over 2 workers
    expect(splitShares(10, 4, 2)).toEqual([
      { start: 0, count: 8 },
      { start: 8, count: 2 },
    ]);
    // fewer batches than workers: one share per batch
    expect(splitShares(3, 4096, 2)).toEqual([{ start: 0, count: 3 }]);
  });
});

describe('runSealParallel (real SEAL on worker threads, one client key)', () => {
  const cal = inputs(40, 9);
  const options = { precisionBits: 1, calibration: { inputs: cal, count: 40, label: 'test' }, provider, ringDimensions: [8192] };

  it("latency circuit: inputs split over 2 workers come back in order with the simulator's predictions", async () => {
    const circuit = compileNetwork(tinyModel('relu', 'gelu'), options);
    const n = 6;
    const xs = inputs(n, 31);
    const setup: string[] = [];
    const progress: number[] = [];
    const r = await runSealParallel(circuit, xs, n, { workers: 2, onSetup: (s) => setup.push(s), onProgress: (d) => progress.push(d) });
    expect(r.workers).toBe(2);
    expect(setup).toContain('secret key');
    expect(setup.some((s) => s.startsWith('worker 1:'))).toBe(true);
    expect(progress.at(-1)).toBe(n);
    expectSimRecords(circuit, r.records, runSim(circuit, xs, n));
  }, 120_000);

  it('throughput circuit: a full batch on one worker and the rest on the other, in input order', async () => {
    const circuit = compileNetwork(tinyModel('relu', 'gelu'), { ...options, mode: 'throughput' });
    const batch = circuit.params.polyModulusDegree / 2;
    const n = batch + 3;
    const xs = inputs(n, 32);
    const r = await runSealParallel(circuit, xs, n, { workers: 2 });
    expect(r.workers).toBe(2);
    expect(r.records).toHaveLength(n);
    // the seam between the shares and both ends
    const picks = [0, 1, batch - 1, batch, batch + 2];
    const exact = picks.map((i) => runSim(circuit, xs.subarray(i * 64, (i + 1) * 64), 1)[0]!);
    picks.forEach((i, k) => expect(r.records[i]!.prediction).toBe(exact[k]!.prediction));
  }, 180_000);

  it('rejects a wrong input length or worker count before starting any worker', async () => {
    const circuit = compileNetwork(tinyModel('relu', 'gelu'), options);
    await expect(runSealParallel(circuit, inputs(2, 1), 3)).rejects.toThrow(InputError);
    await expect(runSealParallel(circuit, inputs(2, 1), 3)).rejects.toThrow(/expected 3 inputs of 64 values, got 128/);
    await expect(runSealParallel(circuit, inputs(2, 1), 2, { workers: 0 })).rejects.toThrow(/workers must be an integer ≥ 1, got 0/);
  });
});
