import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseApproximationFile } from '../../src/approx/approximation-file.js';

// runs the built CLI (npm test type-checks and emits dist/ before vitest)
const PANN = fileURLToPath(new URL('../../bin/pann.js', import.meta.url));

function pann(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [PANN, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('pann fit (built CLI)', () => {
  it('fits by precision and prints JSON with the fields scripts rely on', async () => {
    const r = await pann('fit', 'relu', '--precision', '6', '--range=-1,1', '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.activation).toEqual({ name: 'relu', params: {} });
    expect(j.method).toBe('remez');
    expect(j.interval).toEqual([-1, 1]);
    expect(j.basis).toBe('chebyshev');
    expect(j.maxError).toBeLessThanOrEqual(2 ** -6);
    expect(j.log2Error).toBeCloseTo(Math.log2(j.maxError), 12);
    expect(j.coefficients.length).toBe(j.degree + 1);
    expect(typeof j.coefficients[0]).toBe('number');
    expect(j.depth).toBeGreaterThan(0);
  });

  it('writes a plot and an approximation file; prints the human summary', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pann-fit-'));
    const svg = join(dir, 'p.svg');
    const out = join(dir, 'p.json');
    const r = await pann('fit', 'gelu', '--degree', '12', '--range=-4,4', '--method', 'chebyshev', '--plot', svg, '--out', out);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/gelu on \[-4, 4\]: chebyshev, degree 12/);
    expect(r.stdout).toMatch(/max error .* precision \d+\.\d+ bits/);
    expect(r.stdout).toMatch(/depth \d+, ct multiplications \d+/);
    const text = readFileSync(svg, 'utf8');
    expect(text).toMatch(/^<svg /);
    expect(text).toContain('error f(x) − p(x)');
    expect(text).toContain('chebyshev degree 12');
    expect(parseApproximationFile(readFileSync(out, 'utf8')).degree).toBe(12);
  });

  it('rejects bad input with one line naming the value and exit code 2', async () => {
    const cases: [string[], RegExp][] = [
      [['fit', 'relu', '--degree', '0', '--range=-1,1'], /--degree must be in 1..1024, got 0/],
      [['fit', 'relu', '--degree', '1025', '--range=-1,1'], /--degree must be in 1..1024, got 1025/],
      [['fit', 'relu', '--degree', '2.5', '--range=-1,1'], /--degree must be an integer, got '2.5'/],
      [['fit', 'relu', '--precision', '0', '--range=-1,1'], /--precision must be in 1..40, got 0/],
      [['fit', 'relu', '--precision', '41', '--range=-1,1'], /--precision must be in 1..40, got 41/],
      [['fit', 'relu', '--degree', '8', '--range=1,-1'], /--range \[1, -1\] is empty or inverted/],
      [['fit', 'relu', '--degree', '8', '--range=1,1'], /--range \[1, 1\] is empty or inverted/],
      [['fit', 'relu', '--degree', '8', '--range=-1,Infinity'], /--range must be two finite numbers a,b, got '-1,Infinity'/],
      [['fit', 'relu', '--degree', '8', '--range=-1,abc'], /got '-1,abc'/],
      [['fit', 'relu', '--degree', '8'], /--range a,b is required/],
      [['fit', 'square', '--degree', '4', '--range=-1e200,1e200'], /function is Infinity at x=/],
      [['fit', 'relu', '--precision', '30', '--range=-1,1', '--method', 'chebyshev'], /no chebyshev fit of relu reaches 2\^-30/],
      [['fit', 'rleu', '--degree', '8', '--range=-1,1'], /unknown activation 'rleu'/],
      [
        ['fit', 'relu', '--degree', '8', '--range=-1,1', '--method', 'taylor'],
        /--method must be one of remez, chebyshev, composite|--method must be one of chebyshev, remez, composite/,
      ],
      [['fit', 'relu', '--degree', '8', '--precision', '5', '--range=-1,1'], /exactly one of --precision/],
      [
        ['fit', 'relu', '--degree', '8', '--range=-1,1', '--weight-negative', '-2'],
        /--weight-negative must be a finite number > 0, got '-2'/,
      ],
    ];
    const results = await Promise.all(cases.map(([args]) => pann(...args)));
    results.forEach((r, i) => {
      const [args, re] = cases[i]!;
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(re);
      expect(r.stderr.trim().split('\n').length, args.join(' ')).toBe(1);
      expect(r.stdout).toBe('');
    });
  });
});
