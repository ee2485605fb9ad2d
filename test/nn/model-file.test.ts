import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { activation } from '../../src/approx/activations.js';
import { ModelError } from '../../src/errors.js';
import { loadModel, modelToJSON, parseModel, saveModel, serializeModel } from '../../src/nn/model-file.js';
import type { Layer, Model } from '../../src/nn/model.js';
import { Prng } from '../../src/nn/prng.js';
import { conv, dense, randomArray, reluPoly } from './helpers.js';

function everyLayerModel(): Model {
  const rng = new Prng(1);
  const layers: Layer[] = [
    conv(rng, 1, 2, [3, 3], [1, 1], [1, 1]),
    {
      type: 'batchnorm',
      gamma: randomArray(rng, 2),
      beta: randomArray(rng, 2),
      mean: randomArray(rng, 2),
      variance: Float64Array.of(0.5, 2),
      eps: 1e-5,
    },
    { type: 'activation', activation: activation('aulu', { b1: 0.7, b2: 1.3 }) },
    { type: 'avgpool2d', kernel: [2, 2], stride: [2, 2], padding: [0, 0] },
    { type: 'polynomial', approximation: reluPoly(3, 6), clamp: true },
    { type: 'dropout', rate: 0.25 },
    { type: 'flatten' },
    dense(rng, 2 * 3 * 3, 4),
    { type: 'activation', activation: activation('xielu') },
    dense(rng, 4, 3),
  ];
  // a value that is not representable in float32, to see float64 is kept exactly
  (layers[7] as { weight: Float64Array }).weight[0] = 0.1 + 1e-12;
  return { name: 'every-layer', inputShape: [1, 6, 6], layers, metadata: { note: 'test', accuracy: { test: 0.5 } } };
}

function gapModel(): Model {
  const rng = new Prng(2);
  return { name: 'gap', inputShape: [2, 4, 4], layers: [{ type: 'globalavgpool' }, dense(rng, 2, 3)], metadata: {} };
}

describe('model file (pann-model v1)', () => {
  it('float64 save/load is bit-exact for every layer type', () => {
    for (const m of [everyLayerModel(), gapModel()]) {
      const back = parseModel(serializeModel(m, { dtype: 'float64' }));
      expect(back.name).toBe(m.name);
      expect(back.inputShape).toEqual(m.inputShape);
      expect(back.metadata).toEqual(m.metadata);
      expect(back.layers.length).toBe(m.layers.length);
      m.layers.forEach((l, i) => {
        const b = back.layers[i]!;
        expect(b.type).toBe(l.type);
        for (const key of ['weight', 'bias', 'gamma', 'beta', 'mean', 'variance'] as const) {
          const a = (l as unknown as Record<string, unknown>)[key];
          if (a instanceof Float64Array) {
            const c = (b as unknown as Record<string, Float64Array>)[key]!;
            expect(Buffer.from(c.buffer).equals(Buffer.from(a.buffer))).toBe(true);
          }
        }
        if (l.type === 'activation') expect((b as typeof l).activation.toString()).toBe(l.activation.toString());
        if (l.type === 'polynomial') {
          expect((b as typeof l).approximation).toEqual({ ...l.approximation, interval: [...l.approximation.interval] });
          expect((b as typeof l).clamp).toBe(true);
        }
      });
      // saving again gives the same text
      expect(serializeModel(back, { dtype: 'float64' })).toBe(serializeModel(m, { dtype: 'float64' }));
    }
  });

  it('float32 (the default) stores float32-rounded values and is about half the size', () => {
    const m = everyLayerModel();
    const t32 = serializeModel(m);
    const t64 = serializeModel(m, { dtype: 'float64' });
    const back = parseModel(t32);
    const w = (back.layers[7] as { weight: Float64Array }).weight;
    const orig = (m.layers[7] as { weight: Float64Array }).weight;
    expect(w[0]).toBe(Math.fround(orig[0]!));
    expect(w[0]).not.toBe(orig[0]);
    for (let i = 0; i < w.length; i++) expect(w[i]).toBe(Math.fround(orig[i]!));
    expect(t32.length).toBeLessThan(t64.length);
  });

  it('a 100k-parameter model is well under 1 MB', () => {
    const rng = new Prng(3);
    const big: Model = {
      name: 'big',
      inputShape: [784],
      layers: [dense(rng, 784, 128), { type: 'activation', activation: activation('relu') }, dense(rng, 128, 10)],
      metadata: {},
    };
    expect(serializeModel(big).length).toBeLessThan(600_000);
  });

  it('save and load through a file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pann-model-'));
    const path = join(dir, 'm.json');
    saveModel(path, gapModel(), { dtype: 'float64' });
    expect(loadModel(path).layers[1]!.type).toBe('dense');
    expect(() => loadModel(join(dir, 'missing.json'))).toThrow(/cannot read model file/);
  });

  describe('bad files give a ModelError naming the problem', () => {
    const good = (): Record<string, unknown> => JSON.parse(serializeModel(everyLayerModel())) as Record<string, unknown>;
    const layers = (j: Record<string, unknown>) => j.layers as Record<string, unknown>[];
    const bad = (j: unknown, re: RegExp) => {
      expect(() => parseModel(typeof j === 'string' ? j : JSON.stringify(j))).toThrow(ModelError);
      expect(() => parseModel(typeof j === 'string' ? j : JSON.stringify(j))).toThrow(re);
    };

    it('truncated or garbage JSON', () => {
      const text = serializeModel(everyLayerModel());
      bad(text.slice(0, text.length / 2), /not valid JSON.*truncated/);
      bad('garbage', /not valid JSON/);
      bad('[]', /expected an object/);
    });

    it('wrong format or version', () => {
      bad({ ...good(), format: 'onnx' }, /format: expected "pann-model"/);
      bad({ ...good(), version: 3 }, /version: this pann reads versions 1 and 2, got 3/);
    });

    it('a weight tensor with one value too few names the layer and the counts', () => {
      const j = good();
      const w = layers(j)[7]!.weight as { data: string };
      const bytes = Buffer.from(w.data, 'base64');
      w.data = bytes.subarray(0, bytes.length - 4).toString('base64');
      (layers(j)[7]!.weight as { shape: number[] }).shape = [4, 18];
      bad(j, /layers\[7\]\.weight: expected 72 float32 values, got 71/);
    });

    it('tensor shape that does not match the layer', () => {
      const j = good();
      (layers(j)[7]!.weight as { shape: number[] }).shape = [18, 4];
      bad(j, /layers\[7\]\.weight\.shape: expected \[4, 18\], got \[18, 4\]/);
    });

    it('NaN and infinite weights', () => {
      for (const v of [NaN, Infinity]) {
        const j = good();
        const w = layers(j)[9]!.bias as { data: string };
        const bytes = Buffer.from(w.data, 'base64');
        bytes.writeFloatLE(v, 4);
        w.data = bytes.toString('base64');
        bad(j, /layers\[9\]\.bias\[1\]: (NaN|Infinity) is not a finite number/);
      }
    });

    it('unknown layer type, bad activation, bad base64, missing fields', () => {
      let j = good();
      layers(j)[6] = { type: 'lstm' };
      bad(j, /layers\[6\]\.type: unknown layer type "lstm"/);
      j = good();
      layers(j)[2]!.activation = { name: 'relu6', params: {} };
      bad(j, /layers\[2\]\.activation: unknown activation 'relu6'/);
      j = good();
      (layers(j)[0]!.bias as { data: string }).data = '!!!!';
      bad(j, /layers\[0\]\.bias\.data: not valid base64/);
      j = good();
      delete layers(j)[0]!.stride;
      bad(j, /layers\[0\]\.stride: missing/);
      j = good();
      delete j.inputShape;
      bad(j, /inputShape: missing/);
    });

    it('layers whose shapes do not chain', () => {
      let j = good();
      j.inputShape = [3, 6, 6];
      bad(j, /layers\[0\] \(conv2d\): inChannels is 1 but the input has 3 channels/);
      j = good();
      j.inputShape = [1, 8, 8];
      bad(j, /layers\[7\] \(dense\): inFeatures is 18 but the input has 32 features/);
      j = good();
      j.inputShape = [36];
      bad(j, /layers\[0\] \(conv2d\): expects a \[channels, height, width\] input/);
    });

    it('bad hyper-parameters and polynomial fields', () => {
      let j = good();
      layers(j)[5]!.rate = 1.5;
      bad(j, /layers\[5\]\.rate: expected a number in \[0, 1\)/);
      j = good();
      (layers(j)[4]!.approximation as { interval: number[] }).interval = [3, -3];
      bad(j, /layers\[4\]\.approximation\.interval: expected \[a, b\] with finite a < b/);
      j = good();
      (layers(j)[4]!.approximation as { stages: { coefficients: unknown[] }[] }).stages[0]!.coefficients[2] = 'x';
      bad(j, /layers\[4\]\.approximation\.stages\[0\]\.coefficients\[2\]: "x" is not a finite number/);
      j = good();
      layers(j)[3]!.kernel = [9, 9];
      bad(j, /layers\[3\] \(avgpool2d\): kernel 9 with padding 0 does not fit input height 6/);
    });
  });

  it('refuses to save non-finite weights or values that overflow float32', () => {
    const m = gapModel();
    (m.layers[1] as { bias: Float64Array }).bias[0] = NaN;
    expect(() => modelToJSON(m)).toThrow(/layers\[1\]\.bias\[0\]: NaN is not a finite number/);
    (m.layers[1] as { bias: Float64Array }).bias[0] = 1e300;
    expect(() => modelToJSON(m)).toThrow(/overflows float32/);
    expect(() => modelToJSON(m, { dtype: 'float64' })).not.toThrow();
  });

  it('writes a readable file: one layer per line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pann-model-'));
    const path = join(dir, 'm.json');
    writeFileSync(path, serializeModel(everyLayerModel()));
    const lines = readFileSync(path, 'utf8').split('\n');
    expect(lines[1]).toContain('"format": "pann-model", "version": 1');
    expect(lines.filter((l) => l.trimStart().startsWith('{"type":')).length).toBe(10);
  });
});
