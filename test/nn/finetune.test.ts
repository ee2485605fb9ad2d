import { describe, expect, it } from 'vitest';
import { ModelError } from '../../src/errors.js';
import { buildModel } from '../../src/nn/architecture.js';
import { activationInputRanges, percentileOfSorted } from '../../src/nn/calibration.js';
import { makeDataset, type Dataset } from '../../src/nn/dataset.js';
import { evaluateModel } from '../../src/nn/evaluate.js';
import { finetunePolynomial } from '../../src/nn/finetune.js';
import { predict } from '../../src/nn/inference.js';
import { Prng } from '../../src/nn/prng.js';
import { trainModel } from '../../src/nn/train.js';
import { reluPoly } from './helpers.js';

/** Points in a ring (class 1) or inside it (class 0): needs the non-linearity. */
function rings(count: number, seed: number): Dataset {
  const rng = new Prng(seed);
  const x = new Float64Array(2 * count);
  const y = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const c = i % 2;
    const r = c ? rng.uniform(1.3, 2) : rng.uniform(0, 0.9);
    const t = rng.uniform(0, 2 * Math.PI);
    x[2 * i] = r * Math.cos(t);
    x[2 * i + 1] = r * Math.sin(t);
    y[i] = c;
  }
  return makeDataset('rings', x, y, [2]);
}

const train = rings(400, 1);
const validation = rings(200, 2);
const base = trainModel(buildModel('rings', [2], 'dense:16 act dense:16 act dense:2', { seed: 1 }), train, {
  epochs: 40,
  learningRate: 0.01,
  validation,
}).model;

describe('calibration', () => {
  it('min, max and percentiles of every activation input match a direct computation', () => {
    const ranges = activationInputRanges(base, train, { percentiles: [50, 99] });
    expect(ranges.map((r) => r.layer)).toEqual([1, 3]);
    const values: number[] = [];
    predict(base, train.inputs, { onLayer: (i, input) => i === 3 && values.push(...input) });
    const sorted = Float64Array.from(values).sort();
    const r = ranges[1]!;
    expect(r.count).toBe(400 * 16);
    expect(r.min).toBe(sorted[0]);
    expect(r.max).toBe(sorted.at(-1));
    expect(r.percentiles[0]!.value).toBe(percentileOfSorted(sorted, 50));
    expect(r.percentiles[1]!.abs).toBe(percentileOfSorted(Float64Array.from(values, Math.abs).sort(), 99));
    const sampled = activationInputRanges(base, train, { maxSamples: 1000 })[1]!;
    expect(sampled.sampled).toBeLessThanOrEqual(1000);
    expect(sampled.max).toBe(r.max);
  });
});

describe('polynomial-aware fine-tuning', () => {
  it('replaces activations by polynomials on the calibrated [-B, B] and recovers accuracy', () => {
    const original = evaluateModel(base, validation).accuracy;
    expect(original).toBeGreaterThanOrEqual(0.97);
    const maxAbs = activationInputRanges(base, train).map((r) => r.maxAbs);
    const bounds: number[] = [];
    const r = finetunePolynomial(
      base,
      (act, B) => {
        expect(act.name).toBe('relu');
        bounds.push(B);
        return reluPoly(B, 4);
      },
      { train, validation, margin: 1.2, epochs: 8, learningRate: 3e-3 },
    );
    expect(r.replaced).toEqual([1, 3]);
    expect(bounds[0]).toBeCloseTo(1.2 * maxAbs[0]!, 12);
    expect(bounds[1]).toBeCloseTo(1.2 * maxAbs[1]!, 12);
    expect(r.bounds).toEqual(bounds);
    expect(r.model.layers[1]!.type).toBe('polynomial');
    expect(r.model.layers.filter((l) => l.type === 'polynomial' && l.clamp).length).toBe(2);
    expect(r.before!.original).toBe(original);
    const after = evaluateModel(r.model, validation).accuracy;
    expect(after).toBeGreaterThanOrEqual(r.before!.polynomial);
    expect(after).toBeGreaterThanOrEqual(0.95);
    expect((r.model.metadata.finetune as { range: string }).range).toBe('clamp');
    expect(base.layers[1]!.type).toBe('activation');
  });

  it('takes given approximations (their interval is B) and the range penalty keeps inputs inside', () => {
    const tight = [reluPoly(1, 4), reluPoly(1, 4)];
    const outside = (m: typeof base) => evaluateModel(m, train).stats.reduce((s, x) => s + x.outside, 0);
    const unpenalised = finetunePolynomial(base, tight, { train, range: 'penalty', rangePenalty: 0, epochs: 10, learningRate: 1e-2 });
    const penalised = finetunePolynomial(base, tight, { train, range: 'penalty', rangePenalty: 1, epochs: 10, learningRate: 1e-2 });
    expect(penalised.bounds).toEqual([1, 1]);
    expect(penalised.model.layers.some((l) => l.type === 'polynomial' && l.clamp)).toBe(false);
    expect(outside(penalised.model)).toBeLessThan(outside(unpenalised.model));
  });

  it('rejects mismatched approximations', () => {
    expect(() => finetunePolynomial(base, [reluPoly(2)], { train })).toThrow(/has 2 activation layers but 1 approximations/);
    const gelu = { ...reluPoly(2), activation: 'gelu' };
    expect(() => finetunePolynomial(base, [gelu, gelu], { train })).toThrow(ModelError);
    expect(() => finetunePolynomial(base, [gelu, gelu], { train })).toThrow(/stands in for 'gelu' but layers\[1\] is 'relu'/);
    const noAct = buildModel('lin', [2], 'dense:2', { seed: 1 });
    expect(() => finetunePolynomial(noAct, [], { train })).toThrow(/has no activation layer/);
  });
});
