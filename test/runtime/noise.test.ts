import { describe, expect, it } from 'vitest';
import * as pipeline from '../../src/pipeline.js';
import { erfc, estimateNoise } from '../../src/runtime/noise.js';
import { inputs, provider, tinyModel } from '../compiler/fixtures.js';

describe('erfc', () => {
  it('matches reference values to 1e-7 relative', () => {
    const ref: [number, number][] = [
      [0, 1],
      [0.5, 0.4795001221869535],
      [1, 0.15729920705028513],
      [2, 0.004677734981047266],
      [4, 1.541725790028002e-8],
      [-1, 1.8427007929497148],
    ];
    for (const [x, want] of ref) expect(Math.abs(erfc(x) / want - 1)).toBeLessThan(2e-7);
  });
});

describe('estimateNoise (sim with and without the CKKS noise model)', () => {
  const cal = inputs(200, 3);
  const opts = {
    precisionBits: 1,
    calibration: { inputs: cal, count: 200, label: 'test' },
    provider,
    ringDimensions: [8192],
    refresh: { maxRounds: 0 },
  };
  const compile = (scaleBits: number) => pipeline.compile(tinyModel('relu', 'gelu'), { ...opts, scaleBits });
  const fine = compile(24);
  const coarse = compile(20);

  it('grows with 2^-scale, and the compiler stores it in the report', () => {
    expect(fine.report.noise!.inputs).toBe(200);
    // 4 bits less scale: about 16× the noise
    const ratio = coarse.report.noise!.rmsLogitError / fine.report.noise!.rmsLogitError;
    expect(ratio).toBeGreaterThan(8);
    expect(ratio).toBeLessThan(32);
    expect(coarse.report.noise!.maxLogitError).toBeGreaterThanOrEqual(coarse.report.noise!.rmsLogitError);
    // the same numbers again from the runtime function (seeded)
    expect(estimateNoise(coarse, cal, 200)).toEqual(coarse.report.noise);
  });

  it('estimates the share of changed predictions from the top-two gaps, and notes it when above 1 in 1000', () => {
    expect(fine.report.noise!.expectedFlipRate).toBeLessThan(1e-6);
    expect(fine.report.notes.some((n) => n.startsWith('CKKS noise'))).toBe(false);
    const c = coarse.report.noise!;
    expect(c.expectedFlipRate).toBeGreaterThan(1e-3);
    expect(c.expectedFlipRate).toBeLessThan(0.05);
    // seeds differ, the estimate does not need any flip to have happened: over 5 seeds the observed rate is of its order
    const observed = [1, 2, 3, 4, 5].reduce((a, seed) => a + estimateNoise(coarse, cal, 200, seed).flips, 0) / 1000;
    expect(observed).toBeLessThan(10 * c.expectedFlipRate);
    expect(coarse.report.notes.find((n) => n.startsWith('CKKS noise'))).toMatch(
      /of predictions may differ from the exact circuit's .*\(--ring 16384\)/,
    );
  });

  it('can be switched off, and rejects a bad input count', () => {
    expect(pipeline.compile(tinyModel('relu', 'gelu'), { ...opts, noiseCheck: false }).report.noise).toBeUndefined();
    expect(() => pipeline.compile(tinyModel('relu', 'gelu'), { ...opts, noiseCheck: { inputs: 0 } })).toThrow(
      'noiseCheck.inputs must be an integer ≥ 1, got 0',
    );
  });
});
