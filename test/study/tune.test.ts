import { describe, expect, it } from 'vitest';
import { StudyError } from '../../src/errors.js';
import { headDataset } from '../../src/nn/dataset.js';
import { loadMnistSplit } from '../../src/nn/mnist.js';
import type { Model } from '../../src/nn/model.js';
import { tuneModel } from '../../src/study/tune.js';
import { tinyModel } from './fixtures.js';

const model = tinyModel('relu');
const data = {
  calibration: headDataset(loadMnistSplit('train'), 200),
  validation: headDataset(loadMnistSplit('validation'), 200),
  test: headDataset(loadMnistSplit('test'), 200),
};

describe('tuneModel', () => {
  it('finds the lowest k within the budget and the latency it saves against k = 12', () => {
    const r = tuneModel(model, { maxLossPoints: 1, methods: ['remez', 'chebyshev'], kMax: 10, data });
    expect(r.chosen.validation.lossPoints).toBeLessThanOrEqual(1);
    const k = r.chosen.layers[0]!.k;
    // every simulated lower uniform k of the chosen method missed the budget
    const lower = r.trials.filter((t) => t.method === r.chosen.method && t.status === 'ok' && t.ks[0]! < k);
    expect(lower.every((t) => t.lossPoints! > 1)).toBe(true);
    expect(r.chosen.test).not.toBeNull();
    expect('predictedLatencyMs' in r.baseline).toBe(true);
    expect(r.savedMs).toBeGreaterThan(0);
    expect(r.savedMs).toBeCloseTo((r.baseline as { predictedLatencyMs: number }).predictedLatencyMs - r.chosen.predictedLatencyMs, 9);
  });

  it('says so, with the closest setting, when no setting meets the budget', () => {
    expect(() => tuneModel(model, { maxLossPoints: 0.5, methods: ['remez'], kMin: 1, kMax: 2, data })).toThrow(
      /no setting keeps the validation loss within 0.5 points \(methods remez, k 1\.\.2\); the closest is remez k=\d: validation accuracy [\d.]+%, loss [\d.]+ points/,
    );
  });

  it('rejects bad input with a clear message', () => {
    expect(() => tuneModel(model, { maxLossPoints: -1, data })).toThrow(StudyError);
    expect(() => tuneModel(model, { maxLossPoints: -1, data })).toThrow(/max loss must be/);
    const linear: Model = { ...model, layers: model.layers.filter((l) => l.type !== 'activation') };
    expect(() => tuneModel(linear, { maxLossPoints: 0.5, data })).toThrow(/has no activation layers/);
    const other: Model = {
      ...model,
      inputShape: [20],
      layers: [
        { type: 'dense', inFeatures: 20, outFeatures: 2, weight: new Float64Array(40), bias: new Float64Array(2) },
        model.layers[2]!,
      ],
    };
    expect(() => tuneModel(other, { maxLossPoints: 0.5 })).toThrow(/no calibration split/);
    expect(() => tuneModel(model, { maxLossPoints: 0.5, kMin: 9, kMax: 3, data })).toThrow(/precision range 9\.\.3/);
  });
});
