/**
 * pann compile / run / demo through the built CLI (node bin/pann.js; `npm test` builds first): reports, JSON for
 * scripts, real encrypted runs that agree with the simulator, and bad input exiting 2 with a one-line message.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadMnistSplit } from '../../src/nn/mnist.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'pann-compile-'));
const model = `${root}models/mnist-cnn1-relu-poly6.json`;
const circuit = join(dir, 'cnn1.json');

function pann(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync('node', [`${root}bin/pann.js`, ...args], { encoding: 'utf8', cwd: root });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe('pann compile', () => {
  it('compiles the shipped PANN to N=8192 and prints the plan; --json gives the report', () => {
    let r = pann('compile', model, '-k', '6', '--out', circuit);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/N=8192 \(4096 slots\), modulus \[[\d, ]+\] = \d+\/218 bits \(128-bit security\)/);
    expect(r.stdout).toMatch(/rotation keys \(\d+ steps\)/);
    expect(r.stdout).toMatch(/wrote .*cnn1\.json/);
    r = pann('compile', model, '-k', '6', '--json');
    const rep = JSON.parse(r.stdout) as { ringDimension: number; depth: number; rotationSteps: number[]; predicted: { latencyMs: number } };
    expect(rep.ringDimension).toBe(8192);
    expect(rep.depth).toBeLessThanOrEqual(7);
    expect(rep.predicted.latencyMs).toBeGreaterThan(0);
  });

  it('--link and --max-rounds: the placements compared, the latency split, and a single chain on request', () => {
    type Rep = {
      predicted: { latencyMs: number; split: { serverMs: number; clientMs: number; linkMs: number; link: string } };
      refreshSearch?: { link: string; considered: { points: string[] }[] };
    };
    const local = JSON.parse(pann('compile', model, '-k', '6', '--link', 'local', '--json').stdout) as Rep;
    expect(local.predicted.split.link).toBe('local');
    expect(local.predicted.split.linkMs).toBe(0);
    expect(local.refreshSearch?.considered[0]?.points).toEqual([]);
    const single = JSON.parse(pann('compile', model, '-k', '6', '--max-rounds', '0', '--link', '10mbit,5ms', '--json').stdout) as Rep;
    expect(single.refreshSearch).toBeUndefined();
    expect(single.predicted.split.link).toBe('10 Mbit/s, 5 ms round trip');
    expect(single.predicted.split.linkMs).toBeGreaterThan(5);
    const { serverMs, clientMs, linkMs } = single.predicted.split;
    expect(serverMs + clientMs + linkMs).toBeCloseTo(single.predicted.latencyMs, 6);
  });

  it('stops quietly when its output pipe closes (pann … | head)', () => {
    const r = spawnSync('bash', ['-c', `node ${root}bin/pann.js compile --help | head -1`], { encoding: 'utf8' });
    expect(r.stdout).toMatch(/^Usage: pann compile/);
    expect(r.stderr).not.toMatch(/EPIPE|Error/);
  });

  it('rejects bad input with exit code 2 and one line naming the problem', () => {
    const cases: [string[], RegExp][] = [
      [['compile', model], /--precision <k> is required/],
      [['compile', model, '-k', '0'], /--precision must be in 1\.\.40, got 0/],
      [['compile', model, '-k', 'x'], /--precision must be an integer, got 'x'/],
      [['compile', join(dir, 'missing.json'), '-k', '6'], /missing\.json/],
      [['compile', model, '-k', '6', '--margin', '0.5'], /--margin must be in \[1, 100\]/],
      [
        ['compile', `${root}models/mnist-cnn-relu.json`, '-k', '7', '--ring', '8192', '--max-rounds', '0'],
        /no 128-bit CKKS parameters hold depth 13 .*N=8192: needs \d+ modulus bits > 218/,
      ],
      [['compile', model, '-k', '41'], /--precision must be in 1..40, got 41/],
      [['compile', model, '-k', '6', '--calibration-input', join(dir, 'missing-cal.json')], /cannot read inputs/],
      [['compile', model, '-k', '6', '--link', 'fast'], /link "fast": give local, or a rate such as 100mbit/],
      [['compile', model, '-k', '6', '--refresh-before', '0', '--max-rounds', '1'], /give --refresh-before or --max-rounds, not both/],
      [['compile', model, '-k', '6', '--max-rounds', '-1'], /--max-rounds must be/],
    ];
    for (const [args, msg] of cases) {
      const r = pann(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(msg);
      // the error (progress lines of the passes that ran before it may precede it)
      const lines = r.stderr.trim().split('\n');
      expect(lines.filter((l) => !l.startsWith('compile: ')).length, args.join(' ')).toBeLessThanOrEqual(2);
    }
  });
});

describe('pann run', () => {
  it('runs real encryption on test digits, agreeing with the simulator and the float model (--json)', () => {
    const r = pann('run', circuit, '--backend', 'seal', '--count', '3', '--json');
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as {
      results: { prediction: number; floatPrediction: number; simPrediction: number; logits: number[] }[];
      summary: { agreementWithSim: number; maxLogitErrorVsSim: number; timingMedianMs: { name: string }[]; outsideRange: unknown[] };
    };
    expect(out.results).toHaveLength(3);
    expect(out.summary.agreementWithSim).toBe(1);
    expect(out.summary.maxLogitErrorVsSim).toBeLessThan(0.5);
    expect(out.results[0]!.logits).toHaveLength(10);
    expect(out.summary.timingMedianMs.map((t) => t.name)).toEqual([
      'encode+encrypt',
      'conv2d#0',
      'polynomial#1',
      'dense#3',
      'decrypt+decode',
    ]);
    expect(out.summary.outsideRange).toHaveLength(1);
  });

  it('--workers 2 splits the digits over two SEAL worker threads under one key (--split picks the MNIST split)', () => {
    const r = pann('run', circuit, '--backend', 'seal', '--split', 'validation', '--count', '4', '--workers', '2', '--json');
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as {
      results: { index: number; label: number; prediction: number; simPrediction: number }[];
      summary: { agreementWithSim: number; setupMs: { name: string }[] };
    };
    expect(out.results.map((x) => x.index)).toEqual([0, 1, 2, 3]);
    const validation = loadMnistSplit('validation');
    expect(out.results.map((x) => x.label)).toEqual(Array.from(validation.labels.subarray(0, 4)));
    expect(out.summary.agreementWithSim).toBe(1);
    expect(out.summary.setupMs.map((s) => s.name)).toEqual(
      expect.arrayContaining([
        'secret key',
        expect.stringMatching(/^worker 0: context \+ keys \(N=8192, \d+ Galois keys\)$/),
        expect.stringMatching(/^worker 1: context \+ keys/),
      ]),
    );
  });

  it('takes the same --input file as pann predict', () => {
    const test = loadMnistSplit('test');
    const file = join(dir, 'digits.json');
    writeFileSync(file, JSON.stringify([Array.from(test.inputs.subarray(0, 784)), Array.from(test.inputs.subarray(784, 1568))]));
    const r = pann('run', circuit, '--backend', 'sim', '--input', file, '--json');
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { results: { prediction: number; floatPrediction: number }[] };
    expect(out.results.map((x) => x.prediction)).toEqual(out.results.map((x) => x.floatPrediction));
  });

  it('rejects malformed, other-version and mismatched circuits and inputs with exit code 2', () => {
    const text = readFileSync(circuit, 'utf8');
    const bad = (name: string, content: string) => {
      const p = join(dir, name);
      writeFileSync(p, content);
      return p;
    };
    const v2 = JSON.parse(text);
    v2.version = 2;
    const cases: [string[], RegExp][] = [
      [['run', bad('trunc.json', text.slice(0, 1000)), '--backend', 'sim'], /not valid JSON/],
      [['run', bad('v2.json', JSON.stringify(v2)), '--backend', 'sim'], /version 2; recompile/],
      [['run', bad('model.json', readFileSync(model, 'utf8')), '--backend', 'sim'], /format: expected "pann-circuit"/],
      [['run', circuit, '--backend', 'sim', '--index', '5000'], /--index 5000 is outside the test split/],
      [['run', circuit, '--backend', 'sim', '--input', bad('short.json', '[[1,2,3]]')], /input 0 has 3 values, the model expects 784/],
      [
        ['run', circuit, '--backend', 'sim', '--input', bad('nan.json', `[[${new Array(783).fill(0).join(',')},"x"]]`)],
        /not a finite number/,
      ],
      [['run', circuit, '--backend', 'quantum'], /argument 'quantum' is invalid/],
      [['run', circuit, '--index', '1', '--count', '2'], /give one of --index, --count, --input or --image/],
      [
        ['run', circuit, '--backend', 'sim', '--count', '1001'],
        /--count 1001 is more than the 1000 digits of the test split \(--split train has 8000/,
      ],
      [
        ['run', circuit, '--backend', 'sim', '--split', 'train', '--index', '8000'],
        /--index 8000 is outside the train split \(0\.\.7999\)/,
      ],
      [['run', circuit, '--backend', 'sim', '--split', 'dev'], /argument 'dev' is invalid/],
      [['run', circuit, '--backend', 'sim', '--workers', '2'], /--workers applies to the seal backend only/],
      [['run', circuit, '--backend', 'seal', '--workers', '0'], /--workers/],
      [['run', circuit, '--backend', 'sim', '--threads-per-input', '2'], /--threads-per-input applies to the seal backend only/],
      [['run', circuit, '--backend', 'seal', '--threads-per-input', '17'], /--threads-per-input/],
      [
        ['run', circuit, '--backend', 'seal', '--threads-per-input', '2', '--workers', '2'],
        /--workers splits the inputs and --threads-per-input splits each input: give one of them/,
      ],
    ];
    for (const [args, msg] of cases) {
      const r = pann(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(msg);
    }
  });
});
