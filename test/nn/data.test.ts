import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { DataError } from '../../src/errors.js';
import { parseCsvDataset, loadCsvDataset } from '../../src/nn/csv.js';
import { headDataset, makeDataset, subsetDataset } from '../../src/nn/dataset.js';
import { loadIdxDataset, parseIdx } from '../../src/nn/idx.js';
import { MNIST_SPLIT_SEED, loadMnistDigits, loadMnistSplit, mnistSplitIndices, stratifiedQuotas } from '../../src/nn/mnist.js';

/** Per-class counts of the split as documented in docs/data.md. */
const DOCUMENTED = {
  train: [801, 901, 793, 826, 784, 691, 810, 856, 756, 782],
  validation: [100, 113, 99, 103, 98, 86, 102, 107, 94, 98],
  test: [100, 113, 99, 103, 98, 86, 102, 107, 94, 98],
};

function classCounts(labels: Int32Array): number[] {
  const c = new Array<number>(10).fill(0);
  for (const l of labels) c[l]!++;
  return c;
}

describe('MNIST split', () => {
  it('reads all 10,000 digits of the package (not clipped per digit)', () => {
    const d = loadMnistDigits();
    expect(d.perClass).toEqual([1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]);
    expect(d.inputs.length).toBe(10000 * 784);
    let min = Infinity;
    let max = -Infinity;
    for (const v of d.inputs) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    expect(min).toBe(0);
    expect(max).toBeLessThanOrEqual(1);
    expect(max).toBeGreaterThan(0.99);
  });

  it('is 8000/1000/1000, disjoint, stratified, deterministic, with the documented per-class counts', () => {
    const idx = mnistSplitIndices();
    expect(idx.train.length).toBe(8000);
    expect(idx.validation.length).toBe(1000);
    expect(idx.test.length).toBe(1000);
    const all = new Set([...idx.train, ...idx.validation, ...idx.test]);
    expect(all.size).toBe(10000);
    const again = mnistSplitIndices();
    expect(Array.from(again.test)).toEqual(Array.from(idx.test));
    for (const split of ['train', 'validation', 'test'] as const) {
      const ds = loadMnistSplit(split);
      expect(ds.inputShape).toEqual([1, 28, 28]);
      expect(ds.classes).toBe(10);
      expect(classCounts(ds.labels)).toEqual(DOCUMENTED[split]);
    }
    expect(MNIST_SPLIT_SEED).toBe(20240601);
    // shuffled: the test split is not sorted by class
    const t = loadMnistSplit('test').labels;
    expect(Array.from(t.subarray(0, 20)).some((l, i, a) => i > 0 && l < a[i - 1]!)).toBe(true);
  });

  it('stratified quotas are largest-remainder and sum to the total', () => {
    expect(stratifiedQuotas([1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978], 1000)).toEqual(DOCUMENTED.validation);
    expect(stratifiedQuotas([5, 5, 5], 10)).toEqual([4, 3, 3]);
    expect(() => loadMnistSplit('dev' as never)).toThrow(/unknown MNIST split 'dev'/);
  });
});

function idxBytes(type: number, dims: number[], values: number[], width: number, write: (b: Buffer, v: number, o: number) => void): Buffer {
  const b = Buffer.alloc(4 + 4 * dims.length + values.length * width);
  b[2] = type;
  b[3] = dims.length;
  dims.forEach((d, i) => b.writeUInt32BE(d, 4 + 4 * i));
  values.forEach((v, i) => write(b, v, 4 + 4 * dims.length + i * width));
  return b;
}

describe('IDX files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pann-idx-'));
  const images = idxBytes(0x08, [3, 2, 2], [0, 255, 51, 102, 1, 2, 3, 4, 255, 255, 0, 0], 1, (b, v, o) => b.writeUInt8(v, o));
  const labels = idxBytes(0x08, [3], [7, 0, 3], 1, (b, v, o) => b.writeUInt8(v, o));

  it('reads uint8 images (raw and gzip), scales to 0..1, adds the channel axis', () => {
    writeFileSync(join(dir, 'img'), images);
    writeFileSync(join(dir, 'img.gz'), gzipSync(images));
    writeFileSync(join(dir, 'lab.gz'), gzipSync(labels));
    for (const f of ['img', 'img.gz']) {
      const ds = loadIdxDataset(join(dir, f), join(dir, 'lab.gz'));
      expect(ds.count).toBe(3);
      expect(ds.inputShape).toEqual([1, 2, 2]);
      expect(Array.from(ds.labels)).toEqual([7, 0, 3]);
      expect(ds.inputs[1]).toBe(1);
      expect(ds.inputs[2]).toBeCloseTo(0.2, 15);
      expect(ds.classes).toBe(8);
    }
  });

  it('reads big-endian float32 and int16 arrays', () => {
    const f = parseIdx(idxBytes(0x0d, [2], [1.5, -2.25], 4, (b, v, o) => b.writeFloatBE(v, o)));
    expect(f.type).toBe('float32');
    expect(Array.from(f.values)).toEqual([1.5, -2.25]);
    const s = parseIdx(idxBytes(0x0b, [1, 2], [-300, 7], 2, (b, v, o) => b.writeInt16BE(v, o)));
    expect(s.dims).toEqual([1, 2]);
    expect(Array.from(s.values)).toEqual([-300, 7]);
  });

  it('rejects bad files with a DataError', () => {
    expect(() => parseIdx(Buffer.from([1, 2, 3, 4]), 'x')).toThrow(/x: not an IDX file/);
    expect(() => parseIdx(Buffer.from([0, 0, 0x42, 1, 0, 0, 0, 1, 0]), 'x')).toThrow(/unknown IDX value type 0x42/);
    expect(() => parseIdx(images.subarray(0, images.length - 1), 'x')).toThrow(/need 12 data bytes, file has 11/);
    expect(() => parseIdx(Buffer.from([0x1f, 0x8b, 1, 2, 3]), 'x')).toThrow(/corrupt gzip/);
    writeFileSync(
      join(dir, 'lab2'),
      idxBytes(0x08, [2], [1, 2], 1, (b, v, o) => b.writeUInt8(v, o)),
    );
    expect(() => loadIdxDataset(join(dir, 'img'), join(dir, 'lab2'))).toThrow(/has 3 samples but .* has 2 labels/);
    expect(() => loadIdxDataset(join(dir, 'nope'), join(dir, 'lab2'))).toThrow(DataError);
  });
});

describe('CSV files', () => {
  it('label first with a header, or label last without one', () => {
    const ds = parseCsvDataset('label,a,b,c,d\n1,0,255,0,0\n0,255,0,0,255\n', { scale: 1 / 255, inputShape: [1, 2, 2] });
    expect(ds.count).toBe(2);
    expect(ds.inputShape).toEqual([1, 2, 2]);
    expect(Array.from(ds.labels)).toEqual([1, 0]);
    expect(Array.from(ds.inputs)).toEqual([0, 1, 0, 0, 1, 0, 0, 1]);
    const last = parseCsvDataset('0.5,1.5,2\n-1,2,0\n\n', { labelColumn: 'last' });
    expect(Array.from(last.labels)).toEqual([2, 0]);
    expect(last.inputShape).toEqual([2]);
    expect(Array.from(last.inputs)).toEqual([0.5, 1.5, -1, 2]);
  });

  it('names the line and column of bad data', () => {
    expect(() => parseCsvDataset('1,2,3\n1,2\n', {}, 'f.csv')).toThrow(/f\.csv: line 2: expected 3 columns, got 2/);
    expect(() => parseCsvDataset('1,2,3\n1,x,3\n', {}, 'f.csv')).toThrow(/line 2 column 2: 'x' is not a finite number/);
    expect(() => parseCsvDataset('1.5,2,3\n', {}, 'f.csv')).toThrow(/label '1.5' is not a non-negative integer/);
    expect(() => parseCsvDataset('\n\n', {}, 'f.csv')).toThrow(/no data lines/);
    expect(() => parseCsvDataset('1,2,3\n', { inputShape: [3] }, 'f.csv')).toThrow(
      /inputShape \[3\] needs 3 values per line, the file has 2/,
    );
    expect(() => loadCsvDataset('/nonexistent/x.csv')).toThrow(/cannot read/);
  });
});

describe('datasets', () => {
  it('makeDataset checks sizes and labels; subsetDataset picks samples', () => {
    expect(() => makeDataset('d', new Float64Array(5), Int32Array.of(0, 1), [2])).toThrow(/2 labels need 4 input values/);
    expect(() => makeDataset('d', Float64Array.of(1, NaN), Int32Array.of(0), [2])).toThrow(/sample 0 value 1 is NaN/);
    expect(() => makeDataset('d', new Float64Array(2), Int32Array.of(3), [2], 3)).toThrow(/label 3 is not below the number of classes 3/);
    const ds = makeDataset('d', Float64Array.of(1, 2, 3, 4, 5, 6), Int32Array.of(0, 1, 2), [2]);
    const s = subsetDataset(ds, [2, 0]);
    expect(Array.from(s.inputs)).toEqual([5, 6, 1, 2]);
    expect(Array.from(s.labels)).toEqual([2, 0]);
    const h = headDataset(ds, 2);
    expect(h.count).toBe(2);
    expect(Array.from(h.inputs)).toEqual([1, 2, 3, 4]);
    expect(headDataset(ds, 10)).toBe(ds);
  });
});
