/**
 * `pann study` and `pann tune` through the built CLI (node bin/pann.js; `npm test` builds first): a tiny run
 * writes its outputs; bad input exits 2 with a one-line message naming the problem.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { saveModel } from '../../src/nn/model-file.js';
import { tinyModel, tinyModelDir } from './fixtures.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const { dir, files } = tinyModelDir(['relu']);
const modelPath = join(dir, files[0]!);
const linear = tinyModel('relu', 'linear');
linear.layers = linear.layers.filter((l) => l.type !== 'activation');
const linearPath = join(dir, 'linear.json');
saveModel(linearPath, linear, { dtype: 'float64' });

function pann(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync('node', [`${root}bin/pann.js`, ...args], { encoding: 'utf8', cwd: dir });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe('pann study', () => {
  it('runs a grid from flags and writes the report', () => {
    const out = join(dir, 'out');
    const r = pann(
      'study',
      '--models',
      modelPath,
      '-k',
      '5,6',
      '-m',
      'remez',
      '--count',
      '50',
      '--calibration',
      '100',
      '--out',
      out,
      '--cache',
      join(dir, 'cache'),
      '--workers',
      '0',
      '-q',
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/2 cells \(2 measured, 0 costed only, 0 failed\)/);
    expect(existsSync(join(out, 'report.md'))).toBe(true);
    const report = readFileSync(join(out, 'report.md'), 'utf8');
    expect(report).toContain('pann study --models');
    const again = pann(
      'study',
      '--models',
      modelPath,
      '-k',
      '5,6',
      '-m',
      'remez',
      '--count',
      '50',
      '--calibration',
      '100',
      '--out',
      out,
      '--cache',
      join(dir, 'cache'),
      '--workers',
      '0',
      '--json',
    );
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).timing).toMatchObject({ cached: 2, measured: 0 });
  });

  it('exits 2 with a message naming the problem', () => {
    const bad = join(dir, 'bad-grid.json');
    writeFileSync(bad, JSON.stringify({ format: 'pann-study-grid', version: 1, models: [files[0]], precisions: [] }));
    const cases: [string[], RegExp][] = [
      [[bad], /bad-grid\.json: precisions: is empty/],
      [[join(dir, 'missing.json')], /cannot read grid/],
      [['--models', modelPath], /precisions: missing/],
      [['--models', modelPath, '-k', 'x'], /precisions\[0\]/],
      [['--models', linearPath, '-k', '5'], /has no activation layers/],
      [['--models', modelPath, '-k', '5', '-m', 'composite', '--remedies', 'asymmetric'], /no cells after pruning/],
    ];
    for (const [args, msg] of cases) {
      const r = pann('study', ...args, '--out', join(dir, 'x'), '--no-cache', '--workers', '0');
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(msg);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});

describe('pann tune', () => {
  it('exits 2 on bad input', () => {
    const cases: [string[], RegExp][] = [
      [[modelPath], /--max-loss <points> is required/],
      [[modelPath, '--max-loss', '-1'], /--max-loss/],
      [[linearPath, '--max-loss', '0.5'], /has no activation layers/],
      [[modelPath, '--max-loss', '0.5', '-m', 'taylor'], /unknown method 'taylor'/],
    ];
    for (const [args, msg] of cases) {
      const r = pann('tune', ...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(msg);
    }
  });
});
