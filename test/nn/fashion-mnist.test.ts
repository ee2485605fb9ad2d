/**
 * Fashion-MNIST: the vendored test images (data/fashion-mnist, checked against their recorded sha256), split like
 * MNIST; the official 60,000 + 10,000 from a folder (Debian's when it is installed, else skipped with a message);
 * bad folders and files named in the error; the CLI's --dataset.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadDataPart, trainingData } from '../../src/nn/data-source.js';
import {
  FASHION_FULL_VALIDATION,
  FASHION_MNIST_DEBIAN_DIR,
  loadFashionMnistAll,
  loadFashionMnistFull,
  loadFashionMnistSplit,
  vendoredFashionDir,
} from '../../src/nn/fashion-mnist.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const perClass = (labels: Int32Array) => Array.from({ length: 10 }, (_, c) => labels.filter((l) => l === c).length);

describe('Fashion-MNIST', () => {
  it('the vendored files are the ones recorded in data/fashion-mnist/README.md', () => {
    const readme = readFileSync(join(root, 'data/fashion-mnist/README.md'), 'utf8');
    for (const f of ['t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz']) {
      const sha = createHash('sha256')
        .update(readFileSync(join(vendoredFashionDir(), f)))
        .digest('hex');
      expect(readme).toContain(`| ${f} | ${sha} |`);
    }
    expect(readFileSync(join(root, 'data/fashion-mnist/LICENSE'), 'utf8')).toMatch(/MIT License[\s\S]*Zalando SE/);
  });

  it('fashion-mnist: the 10,000 test images, 1000 per class, split 8000 / 1000 / 1000 like MNIST (stratified, fixed)', () => {
    const all = loadFashionMnistAll();
    expect(all.count).toBe(10000);
    expect(all.inputShape).toEqual([1, 28, 28]);
    expect(perClass(all.labels)).toEqual(Array(10).fill(1000));
    let min = Infinity;
    let max = -Infinity;
    for (const v of all.inputs) [min, max] = [Math.min(min, v), Math.max(max, v)];
    expect([min, max]).toEqual([0, 1]);
    const [train, validation, test] = (['train', 'validation', 'test'] as const).map(loadFashionMnistSplit);
    expect([train!.count, validation!.count, test!.count]).toEqual([8000, 1000, 1000]);
    expect(perClass(test!.labels)).toEqual(Array(10).fill(100));
    expect(perClass(validation!.labels)).toEqual(Array(10).fill(100));
    // the parts are disjoint and cover all 10,000: compare the images as strings of bytes
    const key = (ds: typeof all, i: number) =>
      Buffer.from(ds.inputs.buffer, ds.inputs.byteOffset + i * 784 * 8, 784 * 8).toString('base64');
    const seen = new Set<string>();
    for (const ds of [train!, validation!, test!]) for (let i = 0; i < ds.count; i++) seen.add(key(ds, i));
    expect(seen.size).toBeGreaterThan(9990); // a few images of the official set are exact duplicates
    // through a data spec, as every command reads it; the split is fixed
    expect(loadDataPart({ source: { kind: 'fashion-mnist' } }, 'test').inputs).toBe(test!.inputs);
    expect(() => loadDataPart({ source: { kind: 'fashion-mnist' }, split: { seed: 3 } }, 'test')).toThrow(
      /the fashion-mnist split is fixed/,
    );
    expect(trainingData({ source: { kind: 'fashion-mnist' } }).description).toMatchObject({
      name: 'fashion-mnist',
      split: { sizes: { train: 8000, validation: 1000, test: 1000 } },
    });
  });

  it('fashion-mnist-full: a folder without the files, or with a wrong one, is named in the error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pann-fashion-'));
    expect(() => loadFashionMnistFull('test', dir)).toThrow(
      new RegExp(`${dir}: no t10k-images-idx3-ubyte.gz .*apt install dataset-fashion-mnist puts them in /usr/share/datasets/fashion-mnist`),
    );
    // the test files as the training files: 10,000 images where the official training set has 60,000
    for (const [from, to] of [
      ['t10k-images-idx3-ubyte.gz', 'train-images-idx3-ubyte.gz'],
      ['t10k-labels-idx1-ubyte.gz', 'train-labels-idx1-ubyte.gz'],
      ['t10k-images-idx3-ubyte.gz', 't10k-images-idx3-ubyte.gz'],
    ])
      copyFileSync(join(vendoredFashionDir(), from!), join(dir, to!));
    expect(() => loadFashionMnistFull('test', dir)).toThrow(/t10k-labels-idx1-ubyte\.gz/);
    copyFileSync(join(vendoredFashionDir(), 't10k-labels-idx1-ubyte.gz'), join(dir, 't10k-labels-idx1-ubyte.gz'));
    expect(loadFashionMnistFull('test', dir).count).toBe(10000);
    expect(() => loadFashionMnistFull('train', dir)).toThrow(/train-images-idx3-ubyte\.gz: 10000 images, the official train set has 60000/);
    // the labels file for the images file: an IDX file of the wrong rank
    copyFileSync(join(vendoredFashionDir(), 't10k-labels-idx1-ubyte.gz'), join(dir, 't10k-images-idx3-ubyte.gz'));
    const fresh = mkdtempSync(join(tmpdir(), 'pann-fashion-'));
    copyFileSync(join(dir, 't10k-images-idx3-ubyte.gz'), join(fresh, 't10k-images-idx3-ubyte.gz'));
    copyFileSync(join(vendoredFashionDir(), 't10k-labels-idx1-ubyte.gz'), join(fresh, 't10k-labels-idx1-ubyte.gz'));
    expect(() => loadFashionMnistFull('test', fresh)).toThrow(/t10k-images-idx3-ubyte\.gz: expected dims/);
  });

  const debian = existsSync(join(FASHION_MNIST_DEBIAN_DIR, 'train-images-idx3-ubyte.gz'));
  it.skipIf(!debian)('fashion-mnist-full from Debian’s folder: 55,000 / 5,000 / the official 10,000', () => {
    const train = loadFashionMnistFull('train');
    const validation = loadFashionMnistFull('validation');
    const test = loadFashionMnistFull('test');
    expect([train.count, validation.count, test.count]).toEqual([60000 - FASHION_FULL_VALIDATION, FASHION_FULL_VALIDATION, 10000]);
    expect(perClass(validation.labels)).toEqual(Array(10).fill(500));
    const bytes = (x: Float64Array) => Buffer.from(x.buffer, x.byteOffset, x.byteLength);
    expect(bytes(test.inputs).equals(bytes(loadFashionMnistAll().inputs))).toBe(true); // the vendored files are Debian's test files
  });
  if (!debian) {
    it('fashion-mnist-full from Debian’s folder (skipped: apt install dataset-fashion-mnist to run it)', () => {
      expect(debian).toBe(false);
    });
  }

  it('pann eval --dataset fashion-mnist / fashion-mnist-full, and the flags that do not go together', () => {
    const pann = (...args: string[]) => spawnSync('node', [`${root}bin/pann.js`, ...args], { encoding: 'utf8', cwd: root });
    const e = pann('eval', 'models/mnist-mlp-relu.json', '--dataset', 'fashion-mnist', '--json');
    expect(e.status).toBe(0);
    const r = JSON.parse(e.stdout) as { dataset: string; count: number; accuracy: number };
    expect(r).toMatchObject({ dataset: 'fashion-mnist:test', count: 1000 });
    expect(r.accuracy).toBeLessThan(0.5); // a digit model on clothes: the data really is Fashion-MNIST
    // a model trained on Fashion-MNIST records it, and eval (info, tune, compile's calibration) default to it
    const out = join(mkdtempSync(join(tmpdir(), 'pann-fashion-')), 'fashion-mlp.json');
    const t = pann('train', 'mnist-mlp-relu', '--dataset', 'fashion-mnist', '--epochs', '1', '--out', out, '--json', '-q');
    expect(t.status).toBe(0);
    const trained = JSON.parse(readFileSync(out, 'utf8')) as { metadata: { dataset: { name: string } } };
    expect(trained.metadata.dataset.name).toBe('fashion-mnist');
    const again = JSON.parse(pann('eval', out, '--json').stdout) as { dataset: string; accuracy: number };
    expect(again.dataset).toBe('fashion-mnist:test');
    expect(again.accuracy).toBeGreaterThan(0.6);
    expect((JSON.parse(pann('eval', out, '--dataset', 'mnist', '--json').stdout) as { dataset: string }).dataset).toBe('mnist:test');
    const bad = (args: string[], message: RegExp) => {
      const x = pann('eval', 'models/mnist-mlp-relu.json', ...args);
      expect(x.status).toBe(2);
      expect(x.stderr).toMatch(message);
      expect(x.stderr.trim().split('\n')).toHaveLength(1);
    };
    const cifar = pann('eval', 'models/mnist-mlp-relu.json', '--dataset', 'cifar');
    expect(cifar.status).toBe(2);
    expect(cifar.stderr).toMatch(/'cifar' is invalid\. Allowed choices are mnist, fashion-mnist, fashion-mnist-full/);
    bad(['--dataset', 'fashion-mnist', '--csv', 'x.csv'], /give one of --dataset, --data, --idx, --csv, not --dataset and --csv/);
    bad(['--dataset', 'fashion-mnist', '--dataset-dir', '/tmp'], /--dataset-dir applies to --dataset fashion-mnist-full only/);
    bad(['--dataset', 'fashion-mnist', '--split-seed', '3'], /the fashion-mnist split is fixed/);
    bad(['--dataset', 'fashion-mnist-full', '--dataset-dir', '/nonexistent'], /\/nonexistent: no t10k-images-idx3-ubyte\.gz/);
  });
});
