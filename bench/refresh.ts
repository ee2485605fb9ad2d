/**
 * Client-aided refresh (issue 12's "Measure"): for each configuration, the single-chain circuit against the one the
 * placement search chooses — rounds, ring and chain, keys to upload, predicted latency split (server / client /
 * link at 100 Mbit/s), bytes per round — and measured under SEAL with both roles in one process (link time not
 * counted: `--link local`): median per digit, SEAL = sim on the first E test digits, accuracy of the polynomial
 * network on the whole test split (sim with the CKKS noise model). E defaults to 200 for refreshed circuits and 10
 * for single chains (seconds per digit); PANN_BENCH_REFRESH_IMAGES overrides both. Each circuit runs in its own
 * child process (bench/child.ts).
 */
import { fileURLToPath } from 'node:url';
import type { Circuit } from '../src/circuit/index.js';
import { compileNetwork, type CompileOptions } from '../src/compiler/compile.js';
import { fitterProvider } from '../src/compiler/polynomialise.js';
import { argmax, predict } from '../src/nn/inference.js';
import { headDataset } from '../src/nn/dataset.js';
import { loadMnistSplit } from '../src/nn/mnist.js';
import { loadModel } from '../src/nn/model-file.js';
import { runSim } from '../src/runtime/inference.js';
import { estimateNoise } from '../src/runtime/noise.js';
import { runSeal } from '../src/runtime/seal-inference.js';
import { inChild, median } from './child.js';

interface Config {
  model: string;
  k: number;
  method?: CompileOptions['method'];
  /** 'single': --max-rounds 0; 'auto': the placement search. */
  refresh: 'single' | 'auto';
  /** Skip SEAL (the circuit is predicted only: too slow or too large to measure here). */
  predictOnly?: boolean;
  /** false: no free relayout at the rounds (--no-relayout), to measure what it saves. */
  relayout?: false;
}

const CONFIGS: Config[] = [
  { model: 'mnist-cnn-relu', k: 7, refresh: 'single' },
  { model: 'mnist-cnn-relu', k: 7, refresh: 'auto', relayout: false },
  { model: 'mnist-cnn-relu', k: 7, refresh: 'auto' },
  { model: 'mnist-cnn-relu', k: 12, method: 'composite', refresh: 'single', predictOnly: true },
  { model: 'mnist-cnn-relu', k: 12, method: 'composite', refresh: 'auto' },
  // -m auto: the search compares the shallow composites (stages of depth ≤ 3) too
  { model: 'mnist-cnn-relu', k: 12, refresh: 'auto' },
  // seven ReLU layers: depth 43 at k = 7, more than any one chain holds (no single-chain row)
  { model: 'mnist-mlp7-relu', k: 7, refresh: 'auto' },
];

const root = new URL('../../', import.meta.url);
const SELF = fileURLToPath(import.meta.url);
const RESULT_PREFIX = 'REFRESH-RESULT ';
const MBIT100 = 100e6;

function compileConfig(cfg: Config): Circuit {
  const cal = headDataset(loadMnistSplit('train'), 1000);
  const model = loadModel(fileURLToPath(new URL(`models/${cfg.model}.json`, root)));
  return compileNetwork(model, {
    precisionBits: cfg.k,
    ...(cfg.method ? { method: cfg.method } : {}),
    calibration: { inputs: cal.inputs, count: cal.count, label: 'mnist train[0:1000]' },
    provider: fitterProvider(),
    refresh: cfg.refresh === 'single' ? { maxRounds: 0 } : cfg.relayout === false ? { relayout: false } : {},
    noiseCheck: { inputs: 200, estimate: (c, x, n) => estimateNoise(c, x, n) },
  });
}

interface Row {
  row: string;
  rounds: string[];
}

async function measure(cfg: Config): Promise<Row> {
  const t0 = performance.now();
  const c = compileConfig(cfg);
  const compileS = (performance.now() - t0) / 1000;
  const r = c.report;
  const split = r.predicted.split!;
  const linkMs = ((split.bytesUp + split.bytesDown) * 8 * 1000) / MBIT100;
  const label = `${cfg.model} k=${cfg.k}${cfg.method ? ` ${cfg.method}` : ''}, ${cfg.refresh === 'single' ? 'one chain' : 'refresh search'}${cfg.relayout === false ? ', no relayout' : ''}`;
  const where = r.refresh ? `${r.refresh.rounds} at ${(r.refresh.points ?? []).join(' ')}` : '0';
  let measured = '- | - | - | -';
  if (!cfg.predictOnly) {
    const test = loadMnistSplit('test');
    const model = loadModel(fileURLToPath(new URL(`models/${cfg.model}.json`, root)));
    const floatPred = argmax(predict(model, test.inputs), 10);
    const floatAcc = Array.from(floatPred).filter((p, i) => p === test.labels[i]).length / test.count;
    const noisy = runSim(c, test.inputs, test.count, { noise: { seed: 1 } });
    const simAcc = noisy.filter((q, i) => q.prediction === test.labels[i]).length / test.count;
    const E = Math.min(Number(process.env.PANN_BENCH_REFRESH_IMAGES ?? (r.refresh ? 200 : 10)), test.count);
    const exact = runSim(c, test.inputs.subarray(0, E * 784), E);
    const seal = await runSeal(c, test.inputs.subarray(0, E * 784), E);
    const agree = seal.records.filter((q, i) => q.prediction === exact[i]!.prediction).length;
    let maxErr = 0;
    seal.records.forEach((q, i) => q.logits.forEach((v, j) => (maxErr = Math.max(maxErr, Math.abs(v - exact[i]!.logits[j]!)))));
    const perDigit = median(seal.records.map((q) => q.timings.reduce((a, t) => a + t.ms, 0)));
    measured = `${perDigit.toFixed(0)} | ${(perDigit + linkMs).toFixed(0)} | ${agree}/${E}, max ${maxErr.toExponential(1)} | ${(100 * simAcc).toFixed(2)}% (float ${(100 * floatAcc).toFixed(2)}%)`;
  }
  const row =
    `| ${label} | ${where} | N=${r.ringDimension}, ${c.params.maxLevel} × ${r.scaleBits} bits | ${(r.predicted.evaluationKeyUploadBytes / 1e6).toFixed(0)} MB | ` +
    `${split.serverMs.toFixed(0)} / ${split.clientMs.toFixed(0)} / ${linkMs.toFixed(0)} | ${(split.serverMs + split.clientMs).toFixed(0)} | ${(split.serverMs + split.clientMs + linkMs).toFixed(0)} | ${measured} | ${compileS.toFixed(1)} s |`;
  const rounds = (r.refresh?.perRound ?? []).map(
    (q, n) =>
      `| ${label} | ${n + 1} | ${q.ciphertexts} | ${(q.maskedBytes / 1e3).toFixed(0)} kB | ${(q.freshBytes / 1e3).toFixed(0)} kB | ${q.clientMs.toFixed(1)} | ${(((q.maskedBytes + q.freshBytes) * 8 * 1000) / MBIT100).toFixed(0)} |`,
  );
  return { row, rounds };
}

export function run(): void {
  const rows: string[] = [];
  const rounds: string[] = [];
  CONFIGS.forEach((cfg, i) => {
    const m = inChild<Row>(SELF, ['--config', String(i)], RESULT_PREFIX, `${cfg.model} k=${cfg.k} ${cfg.refresh}`);
    if ('error' in m) rows.push(`| failed: ${m.error.replace(/\|/g, '/')} |`);
    else {
      rows.push(m.row);
      rounds.push(...m.rounds);
    }
  });
  process.stdout.write(
    [
      '| circuit | rounds at | ring, chain | keys (seeded) | predicted ms server / client / link (100 Mbit/s) | predicted, local | predicted, 100 Mbit/s | SEAL ms per digit (local) | + link at 100 Mbit/s | seal = sim (first E) | accuracy, sim with noise (test split) | compile |',
      '|---|---|---|---|---|---|---|---|---|---|---|---|',
      ...rows,
      '',
      '| circuit | round | ciphertexts | masked (down) | fresh (up, seeded) | key holder ms | link ms at 100 Mbit/s |',
      '|---|---|---|---|---|---|---|',
      ...rounds,
      '',
    ].join('\n'),
  );
}

if (process.argv[1] && SELF === process.argv[1]) {
  const [flag, index] = process.argv.slice(2);
  if (flag === '--config') {
    const m = await measure(CONFIGS[Number(index)]!);
    process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(m)}\n`);
    process.exit(0);
  } else run();
}
