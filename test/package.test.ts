/**
 * pann as an installed package: `npm pack` the built package, install the tarball into a fresh project (from the
 * npm cache `npm ci` filled; the registry only for what is missing) and, from there, `import … from 'pann'` fits an
 * activation, compiles the shipped PANN and runs it in the simulator; the consumer also type-checks against the
 * published declarations.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const work = mkdtempSync(join(tmpdir(), 'pann-package-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Run a command and return its stdout; on failure, throw with everything it printed (tsc reports on stdout). */
function run(file: string, args: string[], cwd: string): string {
  try {
    return execFileSync(file, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    throw new Error(`${[file, ...args].join(' ')} failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`, { cause: err });
  }
}

const npm = (args: string[], cwd: string): string => run('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], cwd);

const consumer = `
import { CkksParameters, compile, fitForPrecision, loadMnistSplit, loadModel, parseActivation, predict, runSim } from 'pann';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const fit = fitForPrecision(parseActivation('relu'), { interval: [-1, 1], k: 6 });
const home = dirname(createRequire(import.meta.url).resolve('pann/package.json'));
const model = loadModel(join(home, 'models', 'mnist-cnn1-relu-poly6.json'));
const train = loadMnistSplit('train');
const test = loadMnistSplit('test');
const size = 784;
const circuit = compile(model, {
  precisionBits: 6,
  calibration: { inputs: train.inputs.subarray(0, 100 * size), count: 100, label: 'train[0:100]' },
  noiseCheck: false,
});
const n = 20;
const records = runSim(circuit, test.inputs.subarray(0, n * size), n);
let agree = 0;
for (let i = 0; i < n; i++) {
  const logits = predict(model, test.inputs.subarray(i * size, (i + 1) * size));
  const float = logits.indexOf(Math.max(...logits));
  if (float === records[i]!.prediction) agree++;
}
const params: CkksParameters = circuit.params;
console.log(JSON.stringify({ degree: fit.degree, maxError: fit.maxError, ring: params.polyModulusDegree, depth: circuit.report.depth, agree, n }));
`;

describe('the packed package', () => {
  it('installs from its tarball and works through `import … from "pann"`, types included', { timeout: 300_000 }, () => {
    npm(['pack', '--ignore-scripts', '--pack-destination', work], root);
    const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
    expect(tarball).toBeDefined();
    const app = join(work, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'pann-consumer', private: true, type: 'module' }));
    npm(['install', '--prefer-offline', '--omit=dev', join(work, tarball!)], app);

    // the consumer type-checks against the published declarations …
    writeFileSync(join(app, 'consumer.ts'), consumer);
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    const types = ['--types', 'node', '--typeRoots', join(root, 'node_modules', '@types')];
    const strict = [
      '--noEmit',
      '--strict',
      '--skipLibCheck',
      '--module',
      'nodenext',
      '--moduleResolution',
      'nodenext',
      '--target',
      'es2022',
    ];
    run(process.execPath, [tsc, ...strict, ...types, 'consumer.ts'], app);

    // … and runs as plain JavaScript
    const js = consumer.replace('const params: CkksParameters =', 'const params =').replace('records[i]!.', 'records[i].');
    writeFileSync(join(app, 'consumer.mjs'), js);
    const out = JSON.parse(run(process.execPath, ['consumer.mjs'], app).trim()) as Record<string, number>;
    expect(out.degree).toBeGreaterThan(1);
    expect(out.maxError).toBeLessThanOrEqual(2 ** -6);
    expect(out.ring).toBe(8192);
    expect(out.depth).toBeGreaterThan(1);
    // the PANN's circuit computes its own polynomial network: exact arithmetic, so the float predictions
    expect(out.agree).toBe(out.n);
  });
});
