import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type DataSpec,
  dataFingerprint,
  fitInputShape,
  loadDataPart,
  loadImageFolder,
  splitDataset,
  trainingData,
} from '../../src/nn/data-source.js';
import { makeDataset } from '../../src/nn/dataset.js';
import { loadMnistSplit, MNIST_SPLIT_SEED } from '../../src/nn/mnist.js';
import { pngBytes, writeDigitFolder } from './png-digits.js';

const tmp = mkdtempSync(join(tmpdir(), 'pann-data-source-'));
const digits = join(tmp, 'digits');
const written = writeDigitFolder(digits, 6);

function folder(name: string, files: Record<string, Buffer | string>): string {
  const dir = join(tmp, name);
  for (const [path, bytes] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), bytes);
  }
  mkdirSync(dir, { recursive: true });
  return dir;
}

const grey28 = (v: number) => pngBytes(28, 28, () => [v, v, v, 255]);

describe('image folders', () => {
  it('reads <dir>/<label>/*.png in label order, values as written, shape [1, 28, 28]', () => {
    const ds = loadImageFolder(digits);
    expect(ds.count).toBe(60);
    expect(ds.inputShape).toEqual([1, 28, 28]);
    expect(ds.classes).toBe(10);
    const order = written.labels.map((l, i) => ({ l, i })).sort((a, b) => a.l - b.l || a.i - b.i);
    expect(Array.from(ds.labels)).toEqual(order.map((o) => o.l));
    order.forEach(({ i }, j) => expect(Array.from(ds.inputs.subarray(j * 784, (j + 1) * 784))).toEqual(written.inputs[i]));
  });

  it('turns colour into grey (BT.601 luminance) and composites transparency over black', () => {
    const dir = folder('colour', {
      '0/red.png': pngBytes(2, 1, () => [255, 0, 0, 255]),
      '1/half.png': pngBytes(2, 1, () => [200, 200, 200, 51]),
      '.DS_Store': 'ignored',
    });
    const ds = loadImageFolder(dir);
    expect(ds.inputShape).toEqual([1, 1, 2]);
    expect(ds.inputs[0]).toBeCloseTo(0.299, 12);
    expect(ds.inputs[2]).toBeCloseTo((200 / 255) * 0.2, 12);
    expect(Array.from(ds.labels)).toEqual([0, 1]);
  });

  it('checks each image against the model input shape, naming the file and both sizes', () => {
    const dir = folder('mixed', { '0/a.png': grey28(0), '1/b.png': pngBytes(32, 32, () => [0, 0, 0, 255]) });
    expect(() => loadImageFolder(dir, { inputShape: [1, 28, 28] })).toThrow(
      `${join(dir, '1', 'b.png')}: image is 32×32 pixels, expected 28×28 (the model's input shape [1, 28, 28])`,
    );
    expect(() => loadImageFolder(dir)).toThrow(/1\/b\.png: image is 32×32 pixels, expected 28×28 \(the first image, .*0\/a\.png\)/);
    expect(() => loadImageFolder(join(tmp, 'digits'), { inputShape: [3, 28, 28] })).toThrow(/one grey channel; they cannot fit/);
  });

  it('rejects bad folders with one message naming the path', () => {
    const cases: [string, RegExp][] = [
      [join(tmp, 'missing'), /missing: cannot read the image folder: ENOENT/],
      [folder('empty', {}), /empty: no label folders \(expected <dir>\/<label>\/\*\.png/],
      [folder('named', { 'cat/a.png': grey28(1) }), /named\/cat: label folder names must be class indices .* got 'cat'/],
      [folder('emptylabel', { '0/a.png': grey28(1), '1/.keep': '' }), /emptylabel\/1: empty label folder \(no \.png images\)/],
      [folder('corrupt', { '0/a.png': 'not a png' }), /corrupt\/0\/a\.png: not a PNG image \(bad signature\)/],
      [folder('truncated', { '0/a.png': grey28(1).subarray(0, 40) }), /truncated\/0\/a\.png: cannot decode the PNG/],
      [folder('jpeg', { '0/a.jpg': 'x' }), /jpeg\/0\/a\.jpg: not a \.png file/],
      [join(tmp, 'corrupt', '0', 'a.png'), /a\.png: not a folder/],
    ];
    for (const [dir, message] of cases) expect(() => loadImageFolder(dir)).toThrow(message);
  });
});

describe('data parts', () => {
  const spec: DataSpec = { source: { kind: 'images', dir: digits } };

  it('MNIST: the fixed split, unchanged, and no split options', () => {
    expect(loadDataPart({ source: { kind: 'mnist' } }, 'train')).toBe(loadMnistSplit('train'));
    expect(loadDataPart({ source: { kind: 'mnist' } }, 'all').count).toBe(10000);
    expect(() => loadDataPart({ source: { kind: 'mnist' }, split: { seed: 3 } }, 'train')).toThrow(/the MNIST split is fixed/);
  });

  it('splits your own data seeded and stratified: disjoint parts covering every sample, same seed same split', () => {
    const all = loadDataPart(spec, 'all');
    const parts = splitDataset(all, { validationFraction: 0.2, testFraction: 0.1, seed: 7 });
    expect([parts.train.count, parts.validation.count, parts.test.count]).toEqual([42, 12, 6]);
    const perClass = (labels: Int32Array) => Array.from({ length: 10 }, (_, c) => labels.filter((l) => l === c).length);
    expect(perClass(parts.validation.labels).every((n) => n === 1 || n === 2)).toBe(true);
    const key = (ds: { inputs: Float64Array; count: number }) =>
      Array.from({ length: ds.count }, (_, i) => ds.inputs.subarray(i * 784, (i + 1) * 784).join(','));
    const seen = new Set([...key(parts.train), ...key(parts.validation), ...key(parts.test)]);
    expect(seen.size).toBe(new Set(key(all)).size);
    const again = splitDataset(all, { validationFraction: 0.2, testFraction: 0.1, seed: 7 });
    expect(Array.from(again.test.inputs)).toEqual(Array.from(parts.test.inputs));
    const other = splitDataset(all, { validationFraction: 0.2, testFraction: 0.1, seed: 8 });
    expect(Array.from(other.test.inputs)).not.toEqual(Array.from(parts.test.inputs));
  });

  it('defaults to MNIST proportions and seed, and names each part', () => {
    const d = trainingData(spec, [1, 28, 28]);
    expect([d.train.count, d.validation.count, d.test?.count]).toEqual([48, 6, 6]);
    expect(d.validation.name).toBe(`${digits}:validation`);
    expect(d.description.split).toMatchObject({ seed: MNIST_SPLIT_SEED, validationFraction: 0.1, testFraction: 0.1 });
    expect(trainingData({ ...spec, split: { testFraction: 0 } }).test).toBeNull();
    expect(() => loadDataPart({ ...spec, split: { testFraction: 0 } }, 'test')).toThrow(/the test part of its 60 samples is empty/);
    expect(() => loadDataPart({ ...spec, split: { validationFraction: 0.5, testFraction: 0.5 } }, 'train')).toThrow(
      /leave no training data/,
    );
  });

  it('reshapes to the model input when only the layout differs, else names both shapes', () => {
    const flat = makeDataset('rows.csv', new Float64Array(8), new Int32Array(2), [4]);
    expect(fitInputShape(flat, [1, 2, 2]).inputShape).toEqual([1, 2, 2]);
    expect(() => fitInputShape(flat, [1, 28, 28])).toThrow(
      "rows.csv: inputs of shape [4] (4 values) do not fit the model's input shape [1, 28, 28] (784 values)",
    );
  });

  it('reads CSV and IDX sources, and names the file when one is bad', () => {
    const csv = join(tmp, 'rows.csv');
    writeFileSync(csv, 'label,a,b,c,d\n1,0,255,0,0\n0,255,0,0,0\n');
    const ds = loadDataPart({ source: { kind: 'csv', file: csv, scale: 1 / 255 } }, 'all', [1, 2, 2]);
    expect(ds.inputShape).toEqual([1, 2, 2]);
    expect(Array.from(ds.inputs.subarray(0, 4))).toEqual([0, 1, 0, 0]);
    const ragged = join(tmp, 'ragged.csv');
    writeFileSync(ragged, '1,0,0\n0,1\n');
    expect(() => loadDataPart({ source: { kind: 'csv', file: ragged } }, 'all')).toThrow(`${ragged}: line 2: expected 3 columns, got 2`);
    const images = join(tmp, 'images.idx');
    const labels = join(tmp, 'labels.idx');
    writeFileSync(images, Buffer.from([0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 2, 1, 2, 3]));
    writeFileSync(labels, Buffer.from([0, 0, 8, 1, 0, 0, 0, 1, 4]));
    expect(() => loadDataPart({ source: { kind: 'idx', images, labels } }, 'all')).toThrow(
      `${images}: dims [1, 2, 2] of uint8 need 4 data bytes, file has 3`,
    );
  });

  it('fingerprints the content, not the path', () => {
    const copy = join(tmp, 'copy');
    writeDigitFolder(copy, 6);
    expect(dataFingerprint({ source: { kind: 'images', dir: copy } })).toBe(dataFingerprint(spec));
    expect(dataFingerprint({ ...spec, split: { seed: 2 } })).not.toBe(dataFingerprint(spec));
  });
});
