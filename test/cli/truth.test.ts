/**
 * The CLI tells the truth (issue 18): `pann run` compares a circuit with the model it was compiled from (recorded
 * by weights hash and relative path), progress lines when stderr is not a terminal and none with --json, output
 * paths checked before work, throughput runs on a few inputs warned about and timed per batch and per slot,
 * PNG digits for predict and run, and tune writing the circuit it chose with the command that remakes it.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { argmax, predict } from '../../src/nn/inference.js';
import { loadMnistSplit } from '../../src/nn/mnist.js';
import { loadModel } from '../../src/nn/model-file.js';
import { modelSha256 } from '../../src/nn/fingerprint.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'pann-truth-'));
const shipped = `${root}models/mnist-mlp-relu.json`;

function pann(args: string[], env: Record<string, string> = {}): { code: number; stdout: string; stderr: string; ms: number } {
  const t0 = performance.now();
  const r = spawnSync('node', [`${root}bin/pann.js`, ...args], { encoding: 'utf8', cwd: dir, env: { ...process.env, ...env } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, ms: performance.now() - t0 };
}

interface RunJson {
  results: { prediction: number; floatPrediction?: number }[];
  summary: {
    floatAccuracy?: number;
    floatModel: { path: string; sha256: string; matchesCircuit: boolean | null } | null;
    floatModelNote: string;
    warnings: string[];
    throughput: {
      slots: number;
      batches: number;
      filled: number;
      perBatchMs: number;
      perFilledSlotMs: number;
      perSlotOfFullBatchMs: number;
    } | null;
  };
}

describe('pann run compares with the model the circuit was compiled from', () => {
  // a model trained from the shipped recipe keeps the recipe's name: before, run compared its circuit with the
  // shipped models/mnist-mlp-relu.json (float 98.5 % where the trained model had 87.5 %)
  const trained = join(dir, 'trained', 'm.json');
  const circuit = join(dir, 'c.json');
  beforeAll(() => {
    mkdirSync(join(dir, 'models'));
    copyFileSync(shipped, join(dir, 'models', 'mnist-mlp-relu.json'));
    const t = pann(['train', 'mnist-mlp-relu', '--epochs', '1', '--out', trained, '-q']);
    expect(t.code, t.stderr).toBe(0);
    const c = pann(['compile', trained, '-k', '6', '--noise-check', 'off', '--out', circuit, '-q']);
    expect(c.code, c.stderr).toBe(0);
  }, 120_000);

  it('finds it by the relative path and hash the circuit records, and says so', { timeout: 120_000 }, () => {
    const source = (JSON.parse(readFileSync(circuit, 'utf8')) as { source: { model: { name: string; sha256: string; path: string } } })
      .source;
    const model = loadModel(trained);
    expect(source.model).toEqual({ name: 'mnist-mlp-relu', sha256: modelSha256(model), path: 'trained/m.json' });
    expect(source.model.sha256).not.toBe(modelSha256(loadModel(shipped)));

    const r = pann(['run', circuit, '--backend', 'sim', '--count', '100', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as RunJson;
    expect(out.summary.floatModel).toEqual({ path: 'trained/m.json', sha256: source.model.sha256, matchesCircuit: true });
    const test = loadMnistSplit('test');
    const floatPred = argmax(predict(model, test.inputs.subarray(0, 100 * 784)), 10);
    expect(out.results.map((x) => x.floatPrediction)).toEqual(Array.from(floatPred));
    const floatAcc = Array.from(floatPred).filter((p, i) => p === test.labels[i]).length / 100;
    expect(out.summary.floatAccuracy).toBe(floatAcc);

    // the circuit and its model moved together: still found
    mkdirSync(join(dir, 'moved', 'trained'), { recursive: true });
    copyFileSync(circuit, join(dir, 'moved', 'c.json'));
    copyFileSync(trained, join(dir, 'moved', 'trained', 'm.json'));
    const moved = JSON.parse(pann(['run', join(dir, 'moved', 'c.json'), '--backend', 'sim', '--count', '5', '--json']).stdout) as RunJson;
    expect(moved.summary.floatModel?.matchesCircuit).toBe(true);
  });

  it('refuses a --model with other weights unless --force-model; without its model it compares with none', { timeout: 120_000 }, () => {
    let r = pann(['run', circuit, '--backend', 'sim', '--count', '5', '--model', shipped]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/is not the model circuit mnist-mlp-relu was compiled from .*pass --force-model/);
    r = pann(['run', circuit, '--backend', 'sim', '--count', '5', '--model', shipped, '--force-model', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as RunJson).summary.floatModel?.matchesCircuit).toBe(false);

    // only models/mnist-mlp-relu.json (the shipped weights) beside a circuit whose model is gone: not used
    mkdirSync(join(dir, 'elsewhere'));
    const alone = join(dir, 'elsewhere', 'alone.json');
    copyFileSync(circuit, alone);
    r = pann(['run', alone, '--backend', 'sim', '--count', '5', '--json']);
    const out = JSON.parse(r.stdout) as RunJson;
    expect(out.summary.floatModel).toBeNull();
    expect(out.summary.floatAccuracy).toBeUndefined();
    expect(out.summary.floatModelNote).toMatch(/was not found \(models\/mnist-mlp-relu\.json has other weights\)/);
  });
});

describe('progress and output paths', () => {
  it('prints progress lines when stderr is not a terminal, none with --json', () => {
    const env = { PANN_PROGRESS_INTERVAL_MS: '0' };
    let r = pann(['compile', shipped, '-k', '6', '--noise-check', '20'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^compile: polynomialise…$/m);
    expect(r.stderr).toMatch(/^compile: noise check \(sim, exact then noisy\): 40\/40 \(100%\)/m);
    expect(r.stdout).toMatch(/noise \(sim, 20 calibration inputs\)/);
    r = pann(['compile', shipped, '-k', '6', '--noise-check', 'off', '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect((JSON.parse(r.stdout) as { noise?: unknown }).noise).toBeUndefined();
    const c = join(dir, 'p.json');
    expect(pann(['compile', shipped, '-k', '6', '--noise-check', 'off', '-q', '--out', c]).code).toBe(0);
    r = pann(['run', c, '--backend', 'sim', '--count', '30'], env);
    expect(r.stderr).toMatch(/^run \(sim\): 30\/30 \(100%\)/m);
    expect(r.stderr).toMatch(/^run \(sim\) done in /m);
    r = pann(['run', c, '--backend', 'sim', '--count', '30', '--json'], env);
    expect(r.stderr).toBe('');
    expect(() => JSON.parse(r.stdout) as unknown).not.toThrow();
  }, 180_000);

  it('checks output paths before the work starts', () => {
    const blocker = join(dir, 'a-file');
    writeFileSync(blocker, 'x');
    const cases: [string[], RegExp][] = [
      [['train', 'mnist-mlp-relu', '--out', join(blocker, 'm.json')], /--out '.*a-file\/m\.json': .*a-file is not a folder/],
      [['train', 'mnist-mlp-relu', '--out', join(dir, 'm.txt')], /--out '.*m\.txt': the file name must end in \.json, not \.txt/],
      [['compile', shipped, '-k', '6', '--out', join(blocker, 'c.json')], /a-file is not a folder/],
      [['tune', shipped, '--max-loss', '1', '--out', join(dir, 'c.svg')], /must end in \.json, not \.svg/],
    ];
    for (const [args, msg] of cases) {
      const r = pann(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(msg);
      // no training, compiling or tuning happened first (each would take seconds of CPU, not a start-up)
      expect(r.stderr, args.join(' ')).not.toMatch(/epoch|compile: fold|tune #/);
    }
  }, 60_000);
});

describe('throughput runs on a few inputs', () => {
  it('warn that the batch costs as much as a full one, and time per batch and per slot', () => {
    const c = join(dir, 'tp.json');
    expect(pann(['compile', shipped, '-k', '6', '--mode', 'throughput', '--noise-check', 'off', '-q', '--out', c]).code).toBe(0);
    const r = pann(['run', c, '--backend', 'sim', '--count', '8']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warning: throughput circuit: 8 input\(s\) fill 8 of the 4096 slots of 1 batch\(es\)/);
    expect(r.stdout).toMatch(/timing per batch of 4096 slots \(median of 1\): [\d.]+ s \(predicted [\d.]+ s\)/);
    expect(r.stdout).toMatch(/per filled slot \(8 input\(s\)\): [\d.]+ ms; per slot of a full batch: [\d.]+ ms/);
    const j = JSON.parse(pann(['run', c, '--backend', 'sim', '--count', '8', '--json', '-q']).stdout) as RunJson;
    const t = j.summary.throughput!;
    expect(j.summary.warnings).toHaveLength(1);
    expect(t).toMatchObject({ slots: 4096, batches: 1, filled: 8 });
    expect(t.perFilledSlotMs).toBeCloseTo(t.perBatchMs / 8, 6);
    expect(t.perSlotOfFullBatchMs).toBeCloseTo(t.perBatchMs / 4096, 9);
  }, 180_000);
});

describe('pann tune --out', () => {
  it('writes the chosen circuit, and the printed pann compile command makes the same file', () => {
    mkdirSync(join(dir, 'tuned'));
    const r = pann(['tune', shipped, '--max-loss', '2', '-m', 'remez', '--k-min', '6', '--k-max', '6', '--out', 'tuned/x.json', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as {
      compileCommand: string;
      chosen: { ringDimension: number; depth: number; layers: { k: number }[] };
    };
    expect(out.compileCommand).toBe(`pann compile ${shipped} -k 6 -m remez --max-rounds 0 --out tuned/x.json`);
    const written = JSON.parse(readFileSync(join(dir, 'tuned', 'x.json'), 'utf8')) as { report: { ringDimension: number; depth: number } };
    expect(written.report).toMatchObject({ ringDimension: out.chosen.ringDimension, depth: out.chosen.depth });
    const again = out.compileCommand
      .replace(/^pann /, '')
      .replace('tuned/x.json', 'tuned/y.json')
      .split(' ');
    expect(pann([...again, '-q']).code).toBe(0);
    expect(readFileSync(join(dir, 'tuned', 'y.json'), 'utf8')).toBe(readFileSync(join(dir, 'tuned', 'x.json'), 'utf8'));
  }, 180_000);
});

describe('PNG digits', () => {
  it('predict and run take --image, preprocessed as the client does', () => {
    const test = loadMnistSplit('test');
    const files = [0, 1, 2].map((i) => {
      // the MNIST digit as a white-on-black 28×28 PNG (normalised values back to 0..255)
      const png = new PNG({ width: 28, height: 28 });
      const x = test.inputs.subarray(i * 784, (i + 1) * 784);
      const lo = Math.min(...x);
      const hi = Math.max(...x);
      for (let p = 0; p < 784; p++) {
        const v = Math.round((255 * (x[p]! - lo)) / (hi - lo));
        png.data.set([v, v, v, 255], 4 * p);
      }
      const f = join(dir, `digit${i}.png`);
      writeFileSync(f, PNG.sync.write(png));
      return f;
    });
    let r = pann(['predict', shipped, '--image', ...files, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const labels = Array.from(test.labels.subarray(0, 3));
    expect((JSON.parse(r.stdout) as { prediction: number }[]).map((x) => x.prediction)).toEqual(labels);
    const c = join(dir, 'img.json');
    expect(pann(['compile', shipped, '-k', '6', '--noise-check', 'off', '-q', '--out', c]).code).toBe(0);
    r = pann(['run', c, '--backend', 'sim', '--image', ...files, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as RunJson).results.map((x) => x.prediction)).toEqual(labels);
    r = pann(['predict', shipped, '--image', join(dir, 'missing.png')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot read .*missing\.png/);
    expect(pann(['predict', shipped]).stderr).toMatch(/give one of --input or --image/);
  }, 120_000);
});
