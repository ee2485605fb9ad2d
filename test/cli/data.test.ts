/**
 * Your own data through the built CLI (node bin/pann.js; `npm test` builds first): a folder of PNG digits trained
 * on, evaluated, compiled, tuned and studied with the same options, and bad data exiting 2 with one line naming
 * the file.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Circuit } from '../../src/circuit/index.js';
import { inputsFor } from '../../src/cli/run.js';
import { loadFashionMnistSplit } from '../../src/nn/fashion-mnist.js';
import { loadMnistSplit } from '../../src/nn/mnist.js';
import { pngBytes, writeDigitFolder } from '../nn/png-digits.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'pann-data-cli-'));
const digits = join(dir, 'digits');
writeDigitFolder(digits, 4);
const model = join(dir, 'mine.json');

function pann(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync('node', [`${root}bin/pann.js`, ...args], { encoding: 'utf8', cwd: root });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function json(r: { code: number; stdout: string; stderr: string }): Record<string, unknown> {
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

describe('a folder of PNG digits, end to end', () => {
  it('pann train --data trains on its train part and reports its test part; pann eval --data measures the same part', () => {
    const t = json(pann('train', 'mnist-mlp-relu', '--data', digits, '--epochs', '1', '--out', model, '--json', '-q'));
    expect(t.epochsRun).toBe(1);
    const saved = JSON.parse(readFileSync(model, 'utf8')) as { metadata: { dataset: { source: unknown; split: { sizes: unknown } } } };
    expect(saved.metadata.dataset.source).toEqual({ kind: 'images', dir: digits });
    expect(saved.metadata.dataset.split.sizes).toEqual({ train: 32, validation: 4, test: 4 });
    const e = json(pann('eval', model, '--data', digits, '--json'));
    expect(e.dataset).toBe(`${digits}:test`);
    expect(e.count).toBe(4);
    expect(e.accuracy).toBe(t.testAccuracy);
    const v = json(pann('eval', model, '--data', digits, '--split', 'validation', '--json'));
    expect(v.accuracy).toBe(t.validationAccuracy);
    const all = json(pann('eval', model, '--data', digits, '--split', 'all', '--json'));
    expect(all.count).toBe(40);
  });

  it('pann train --finetune-poly, compile, tune and study take the same options', () => {
    const poly = join(dir, 'poly.json');
    const f = json(
      pann(
        'train',
        '--finetune-poly',
        model,
        '--precision',
        '4',
        '--data',
        digits,
        '--test-fraction',
        '0',
        '--epochs',
        '1',
        '--out',
        poly,
        '--json',
        '-q',
      ),
    );
    expect(f.testAccuracy).toBeNull();
    expect(typeof f.validationAccuracy).toBe('number');
    const c = json(pann('compile', model, '-k', '5', '--data', digits, '--calibration', '10', '--json'));
    expect((c.calibration as { count: number; split: string }).split).toBe(`${digits}:train[0:10]`);
    const t = json(pann('tune', model, '--max-loss', '100', '-m', 'remez', '--k-min', '4', '--k-max', '4', '--data', digits, '--json'));
    expect((t.floatAccuracy as { test: number | null }).test).not.toBeNull();
    const s = json(
      pann(
        'study',
        '--models',
        model,
        '-k',
        '4',
        '-m',
        'remez',
        '--data',
        digits,
        '--workers',
        '0',
        '--no-cache',
        '--out',
        join(dir, 'study'),
        '--json',
        '-q',
      ),
    );
    expect((s.counts as { ok: number }).ok).toBe(1);
    const results = JSON.parse(readFileSync(join(dir, 'study', 'results.json'), 'utf8')) as { cells: { float: { count: number } }[] };
    expect(results.cells[0]!.float.count).toBe(4);
  }, 120_000);
});

describe('bad data', () => {
  const bad = (name: string, files: Record<string, Buffer | string>) => {
    const d = join(dir, name);
    mkdirSync(d, { recursive: true });
    for (const [path, bytes] of Object.entries(files)) {
      mkdirSync(join(d, path, '..'), { recursive: true });
      writeFileSync(join(d, path), bytes);
    }
    return d;
  };
  const png = (side: number) => pngBytes(side, side, () => [0, 0, 0, 255]);
  const idxImages = join(dir, 'images.idx');
  const idxLabels = join(dir, 'labels.idx');
  writeFileSync(idxImages, Buffer.from([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 28, 0, 0, 0, 28, 1]));
  writeFileSync(idxLabels, Buffer.from([0, 0, 8, 1, 0, 0, 0, 2, 1, 2]));
  const ragged = join(dir, 'ragged.csv');
  writeFileSync(ragged, '1,0,0\n0,1\n');

  it('exits 2 with one line naming the file, never a stack trace', () => {
    const cases: [string[], string][] = [
      [['--data', join(dir, 'nope')], `${join(dir, 'nope')}: cannot read the image folder`],
      [['--data', bad('empty', {})], `${join(dir, 'empty')}: no label folders`],
      [['--data', bad('named', { 'seven/a.png': png(28) })], `${join(dir, 'named', 'seven')}: label folder names must be class indices`],
      [['--data', bad('corrupt', { '3/a.png': 'junk' })], `${join(dir, 'corrupt', '3', 'a.png')}: not a PNG image`],
      [['--data', bad('size', { '3/a.png': png(32) })], `${join(dir, 'size', '3', 'a.png')}: image is 32×32 pixels, expected 28×28`],
      [['--idx', idxImages, idxLabels], `${idxImages}: dims [2, 28, 28] of uint8 need 1568 data bytes, file has 1`],
      [['--csv', ragged], `${ragged}: line 2: expected 3 columns, got 2`],
      [['--split-seed', '3'], '--split-seed apply to your own data'],
      [['--data', digits, '--csv', ragged], 'give one of --dataset, --data, --idx, --csv, not --data and --csv'],
    ];
    for (const [args, message] of cases) {
      for (const r of [
        pann('eval', model, ...args),
        pann('train', 'mnist-mlp-relu', '--epochs', '1', '--out', join(dir, 'x.json'), ...args),
      ]) {
        expect(r.code).toBe(2);
        expect(r.stderr).toContain(message);
        expect(r.stderr.trim().split('\n')).toHaveLength(1);
      }
    }
  });

  it('a dataset that does not fit the model names both shapes', () => {
    writeFileSync(join(dir, 'narrow.csv'), '1,0,0\n0,1,1\n');
    const n = pann('eval', model, '--csv', join(dir, 'narrow.csv'), '--split', 'all');
    expect(n.code).toBe(2);
    expect(n.stderr).toBe(
      `pann eval: ${join(dir, 'narrow.csv')}: inputs of shape [2] (2 values) do not fit the model's input shape [1, 28, 28] (784 values)\n`,
    );
  });
});

describe('pann run takes the test images of the dataset its circuit was calibrated on', () => {
  it('Fashion-MNIST for a circuit calibrated on it, MNIST otherwise; --dataset chooses', () => {
    const circuit = (label: string) =>
      ({ name: 'c', inputLayout: { length: 784 }, source: { calibration: { label } } }) as unknown as Circuit;
    const labels = (ds: { labels: Int32Array | Uint8Array }) => Array.from(ds.labels.subarray(0, 5));
    const fashion = labels(loadFashionMnistSplit('test'));
    const mnist = labels(loadMnistSplit('test'));
    expect(fashion).not.toEqual(mnist);
    expect(Array.from(inputsFor(circuit('fashion-mnist-full train[0:1000]'), { count: 5, dataset: 'fashion-mnist' }).labels!)).toEqual(
      fashion,
    );
    expect(Array.from(inputsFor(circuit('fashion-mnist train[0:1000]'), { count: 5 }).labels!)).toEqual(fashion);
    expect(Array.from(inputsFor(circuit('mnist train[0:1000]'), { count: 5 }).labels!)).toEqual(mnist);
    expect(Array.from(inputsFor(circuit('fashion-mnist train[0:1000]'), { count: 5, dataset: 'mnist' }).labels!)).toEqual(mnist);
  });
});
