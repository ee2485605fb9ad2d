import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseActivation } from '../../src/approx/activations.js';
import { parseApproximationFile } from '../../src/approx/approximation-file.js';
import { fitterProvider } from '../../src/compiler/polynomialise.js';

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

/** Each command exits 2 with one line on stderr matching its pattern, and prints nothing on stdout. */
async function expectRejected(cases: readonly (readonly [string[], RegExp])[]): Promise<void> {
  const results = await Promise.all(cases.map(([args]) => pann(...args)));
  results.forEach((r, i) => {
    const [args, re] = cases[i]!;
    expect(r.code, args.join(' ')).toBe(2);
    expect(r.stderr, args.join(' ')).toMatch(re);
    expect(r.stderr.trim().split('\n').length, args.join(' ')).toBe(1);
    expect(r.stdout).toBe('');
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
    await expectRejected(cases);
  });

  it('--precision k means max error ≤ B·2^-k on the range, as compile -k (issue 18); --absolute is 2^-k', async () => {
    // LSLU on [-4, 4] at k = 8: 4·2^-8 (degree 72), not 2^-8 (degree 288)
    const r = await pann('fit', 'lslu:theta=2,omega=0.5', '--precision', '8', '--range=-4,4', '--method', 'remez');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('target         precision 8 relative to B = 4: max error ≤ 4·2^-8 = 0.01563');
    expect(Number(/degree (\d+)/.exec(r.stdout)![1])).toBeLessThan(100);
    const [rel, abs] = await Promise.all([
      pann('fit', 'gelu', '--precision', '8', '--range=-8,8', '--json'),
      pann('fit', 'gelu', '--precision', '8', '--range=-8,8', '--json', '--absolute'),
    ]);
    const [jr, ja] = [JSON.parse(rel.stdout), JSON.parse(abs.stdout)];
    expect(jr.precision).toEqual({ k: 8, meaning: 'relative', B: 8, maxError: 8 * 2 ** -8, searchedBits: 5, carried: false });
    expect(jr.maxError).toBeLessThanOrEqual(8 * 2 ** -8);
    expect(ja.precision).toMatchObject({ k: 8, meaning: 'absolute', maxError: 2 ** -8, searchedBits: 8 });
    expect(ja.maxError).toBeLessThanOrEqual(2 ** -8);
    expect(ja.degree).toBeGreaterThan(jr.degree);
  });

  it('pann fit --precision k --range -B,B chooses what the compiler chooses for range B at precision k', async () => {
    // GELU on [-8, 8] at k = 10 (degree 18, error 0.005608 ≤ 8·2^-10), ReLU on [-3, 3] at k = 8 (carried from [-1, 1])
    const provider = fitterProvider();
    for (const [spec, B, k] of [
      ['gelu', 8, 10],
      ['relu', 3, 8],
    ] as const) {
      const r = await pann('fit', spec, '--precision', String(k), `--range=-${B},${B}`, '--json');
      expect(r.code, r.stderr).toBe(0);
      const j = JSON.parse(r.stdout);
      const provided = provider({ activation: parseActivation(spec), B, precisionBits: k, method: 'auto' });
      expect(j.degree).toBe(provided.approximation.stages[0]!.coefficients.length - 1);
      expect(j.maxError).toBe(provided.maxError);
      expect(j.maxError).toBeLessThanOrEqual(B * 2 ** -k);
    }
  });

  it('says why a --degree fit came out lower, and why no method reached a target', async () => {
    const [gelu, composite, sign] = await Promise.all([
      pann('fit', 'gelu', '--degree', '15', '--range=-8,8'),
      pann('fit', 'relu', '--precision', '8', '--range=-1,2', '--method', 'composite'),
      pann('fit', 'sign', '--precision', '3', '--range=-1,1', '--method', 'remez', '--json'),
    ]);
    expect(gelu.stdout).toMatch(/degree 14\n/);
    expect(gelu.stdout).toMatch(/note +asked for degree 15, got 14: gelu\(x\) − \(0.5·x\) is even/);
    expect(composite.code).toBe(2);
    expect(composite.stderr).toMatch(/no method applies to relu on \[-1, 2\] \(composite: composite needs a symmetric range \[-B, B\]\)/);
    expect(sign.code).toBe(2);
    expect(sign.stderr).toMatch(/no remez fit of sign .*give --gap ε$/m);
  });

  it('--gap ε fits sign and step on [a, -ε] ∪ [ε, b]', async () => {
    const r = await pann('fit', 'sign', '--precision', '6', '--range=-2,2', '--gap', '0.1', '--json');
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.gap).toBeCloseTo(0.1, 15);
    expect(j.maxError).toBeLessThanOrEqual(2 * 2 ** -6);
    const step = await pann('fit', 'step', '--degree', '15', '--range=-1,1', '--gap', '0.2');
    expect(step.stdout).toMatch(/step on \[-1, -0.2\] ∪ \[0.2, 1\]: remez, degree 15/);
  });

  it('checks --plot, --out and --gap before fitting: one line, exit 2, nothing written', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pann-fit-'));
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    const cases: [string[], RegExp][] = [
      [
        ['fit', 'relu', '--degree', '8', '--range=-1,1', '--plot', join(dir, 'p.png')],
        /--plot '.*p.png': the file name must end in .svg, not .png/,
      ],
      [['fit', 'relu', '--degree', '8', '--range=-1,1', '--plot', join(file, 'x.svg')], /--plot '.*x.svg': .*is not a folder/],
      [['fit', 'relu', '--degree', '8', '--range=-1,1', '--out', join(dir, 'p.txt')], /--out '.*p.txt': the file name must end in .json/],
      [['fit', 'sign', '--degree', '8', '--range=-1,1', '--gap', '1'], /--gap must be a number with 0 < ε < 1 .*got '1'/],
      [['fit', 'sign', '--degree', '8', '--range=0,1', '--gap', '0.1'], /--gap needs a range around 0/],
      [['fit', 'relu', '--degree', '8', '--range=-1,1', '--gap', '0.1'], /--gap applies to sign and step/],
      [['fit', 'sign', '--degrees', '7,7', '--range=-1,1', '--gap', '0.1'], /--gap applies to unweighted remez and chebyshev/],
      [['fit', 'relu', '--degree', '8', '--range=-1,1', '--absolute'], /--absolute applies to --precision k only/],
    ];
    await expectRejected(cases);
    expect(existsSync(join(dir, 'p.png'))).toBe(false);
  });
});
