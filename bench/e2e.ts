/**
 * End-to-end encrypted inference per shipped model (issue 4's "must show"):
 * - compile at a precision that fits N=8192 (plus the accurate N=16384 setting of the two-activation CNN);
 * - the polynomial network's accuracy on the whole test split (sim backend with the CKKS noise model) vs float;
 * - real SEAL on the first E test digits (E = 200 by default, PANN_BENCH_IMAGES to change): agreement of the
 *   encrypted predictions with the sim backend's, max logit error vs sim;
 * - median latency per stage, the prediction from the measured per-op costs of bench/op-costs.json, and their
 *   ratio (goal ≤ 1.15: the runtime adds no overhead of its own);
 * - single-thread throughput of the latency layout (images/s = 1000 / latency);
 * - throughput mode: one batch of N/2 inputs per worker thread (PANN_BENCH_WORKERS, default: the cores), all at once.
 * Each configuration runs in its own child process (a fresh node-seal WASM heap): run back to back in one
 * process, the configurations fragment the 4 GB heap until an N=16384 one runs out of it, and the SEAL teardown
 * after that allocation failure never returns (profiled: inside node-seal's Plaintext delete).
 */
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { type Circuit, predictOpsMs } from '../src/circuit/index.js';
import { compileNetwork } from '../src/compiler/compile.js';
import { measuredOpCost } from '../src/ckks/params/index.js';
import { fitterProvider } from '../src/compiler/polynomialise.js';
import { argmax, predict } from '../src/nn/inference.js';
import { headDataset } from '../src/nn/dataset.js';
import { loadMnistSplit } from '../src/nn/mnist.js';
import { loadModel } from '../src/nn/model-file.js';
import { runSim } from '../src/runtime/inference.js';
import { runSeal } from '../src/runtime/seal-inference.js';
import { runSealParallel } from '../src/runtime/seal-parallel.js';
import { topTwoGap } from '../src/runtime/noise.js';
import { inChild, median } from './child.js';

interface Config {
  model: string;
  k: number;
  images?: number;
  ring?: number[];
  /** Force the generic fold packing (a convolution as a Toeplitz matrix), to measure it against the conv packing. */
  packing?: 'fold';
}

const CONFIGS: Config[] = [
  { model: 'mnist-cnn1-relu-poly6', k: 6 },
  { model: 'mnist-cnn1-relu-poly4', k: 4 },
  { model: 'mnist-cnn1-relu-poly6', k: 6, images: 5, packing: 'fold' },
  { model: 'mnist-cnn1-relu', k: 6 },
  { model: 'mnist-cnn1-relu', k: 7 },
  { model: 'mnist-mlp-relu', k: 7 },
  { model: 'mnist-cnn-relu', k: 4 },
  { model: 'mnist-cnn-ulu', k: 4 },
  { model: 'mnist-cnn-aulu', k: 4 },
  { model: 'mnist-cnn-relu', k: 7, images: 10 },
];

const THROUGHPUT: Config[] = [
  { model: 'mnist-cnn1-relu-poly6', k: 6 },
  { model: 'mnist-cnn1-relu-poly4', k: 4 },
];
/** Worker threads of the throughput measurement (one SEAL instance and one batch each). */
const THROUGHPUT_WORKERS = Math.max(1, Number(process.env.PANN_BENCH_WORKERS ?? availableParallelism()));

/** Predicted ms of each circuit stage from the measured per-op cost table. */
function predicted(circuit: Circuit): Map<string, number> {
  const N = circuit.params.polyModulusDegree;
  const m = new Map<string, number>();
  for (const s of circuit.stages) m.set(s.name, predictOpsMs(circuit.ops, circuit.registerLevel, N, measuredOpCost, s.ops[0], s.ops[1]));
  return m;
}

type Measured = { summary: string; stageRows: string[] } | { throughputRow: string };

const root = new URL('../../', import.meta.url);

/** The configuration's model, compiled on the first 1000 training digits. */
function compileConfig(cfg: Config, mode: 'latency' | 'throughput') {
  const cal = headDataset(loadMnistSplit('train'), 1000);
  const model = loadModel(fileURLToPath(new URL(`models/${cfg.model}.json`, root)));
  const circuit = compileNetwork(model, {
    precisionBits: cfg.k,
    calibration: { inputs: cal.inputs, count: cal.count, label: 'mnist train[0:1000]' },
    provider: fitterProvider(),
    mode,
    // the rows measure single-chain circuits against the op-cost model; bench/refresh.ts measures refresh rounds
    refresh: { maxRounds: 0 },
    ...(cfg.ring ? { ringDimensions: cfg.ring } : {}),
    ...(cfg.packing ? { packing: cfg.packing } : {}),
  });
  return { model, circuit };
}

/** One latency configuration (run in a child process). */
async function measureLatency(cfg: Config, defaultImages: number): Promise<Measured> {
  const test = loadMnistSplit('test');
  const stageRows: string[] = [];
  const { model, circuit } = compileConfig(cfg, 'latency');
  const floatPred = argmax(predict(model, test.inputs), 10);
  const floatAcc = Array.from(floatPred).filter((p, i) => p === test.labels[i]).length / test.count;
  const sim = runSim(circuit, test.inputs, test.count, { noise: { seed: 1 } });
  const simAcc = sim.filter((r, i) => r.prediction === test.labels[i]).length / test.count;
  const E = Math.min(cfg.images ?? defaultImages, test.count);
  const exact = runSim(circuit, test.inputs.subarray(0, E * 784), E);
  const seal = await runSeal(circuit, test.inputs.subarray(0, E * 784), E);
  const agree = seal.records.filter((r, i) => r.prediction === exact[i]!.prediction).length;
  // where SEAL and sim disagree: how close the exact top two logits were (a near-tie flips under CKKS noise)
  const gaps = seal.records.flatMap((r, i) => (r.prediction === exact[i]!.prediction ? [] : [topTwoGap(exact[i]!.logits)]));
  const agreeCell = gaps.length === 0 ? `${agree}/${E}` : `${agree}/${E} (top-2 gap ${gaps.map((g) => g.toFixed(2)).join(', ')})`;
  let maxErr = 0;
  seal.records.forEach((r, i) => r.logits.forEach((v, j) => (maxErr = Math.max(maxErr, Math.abs(v - exact[i]!.logits[j]!)))));
  const names = seal.records[0]!.timings.map((t) => t.name);
  const med = names.map((_, i) => median(seal.records.map((r) => r.timings[i]!.ms)));
  const pred = predicted(circuit);
  const N = circuit.params.polyModulusDegree;
  const predEncrypt =
    measuredOpCost('encryptSymmetric', N, circuit.params.coeffModulusBits.length - 2) +
    measuredOpCost('encode', N, circuit.params.coeffModulusBits.length - 2);
  const evalMeasured = med.slice(1, -1).reduce((a, b) => a + b, 0);
  const evalPredicted = [...pred.values()].reduce((a, b) => a + b, 0);
  const total = median(seal.records.map((r) => r.timings.reduce((a, t) => a + t.ms, 0)));
  const label = `${cfg.model} k=${cfg.k}${cfg.packing ? ` (${cfg.packing} packing)` : ''}`;
  const summary =
    `| ${label} | ${N} | ${circuit.report.depth} | ${(100 * floatAcc).toFixed(2)}% | ${(100 * simAcc).toFixed(2)}% | ` +
    `${agreeCell} | ${circuit.report.noise ? `${(100 * circuit.report.noise.expectedFlipRate).toPrecision(2)}%` : '-'} | ${maxErr.toExponential(2)} | ${total.toFixed(0)} | ${evalPredicted.toFixed(0)} | ${(evalMeasured / evalPredicted).toFixed(2)} | ` +
    `${(1000 / total).toFixed(2)} | ${(seal.setup.reduce((a, s) => a + s.ms, 0) / 1000).toFixed(1)} s |`;
  names.forEach((name, i) => {
    const p = i === 0 ? predEncrypt : pred.get(name);
    stageRows.push(`| ${label} | ${name} | ${med[i]!.toFixed(1)} | ${p === undefined ? '-' : p.toFixed(1)} |`);
  });
  return { summary, stageRows };
}

/**
 * Throughput mode: one full batch (N/2 inputs, one per slot) per worker thread, all workers at once under one
 * client key (runSealParallel), encrypt → evaluate → decrypt. The inputs are train digits (repeated when the
 * split is shorter than the batches: the cost does not depend on the values). Run in a child process.
 */
async function measureThroughput(cfg: Config): Promise<Measured> {
  const { circuit } = compileConfig(cfg, 'throughput');
  const batch = circuit.params.polyModulusDegree / 2;
  const workers = THROUGHPUT_WORKERS;
  const train = loadMnistSplit('train');
  const total = batch * workers;
  const xs = new Float64Array(total * 784);
  for (let i = 0; i < total; i++) xs.set(train.inputs.subarray((i % train.count) * 784, ((i % train.count) + 1) * 784), i * 784);
  const t0 = performance.now();
  const seal = await runSealParallel(circuit, xs, total, { workers });
  const wall = performance.now() - t0;
  // workers set up side by side: the slowest one's setup is what the wall clock saw
  const setupPerWorker = new Map<string, number>();
  for (const s of seal.setup) {
    const w = s.name.startsWith('worker ') ? s.name.slice(0, s.name.indexOf(':')) : 'main';
    setupPerWorker.set(w, (setupPerWorker.get(w) ?? 0) + s.ms);
  }
  const main = setupPerWorker.get('main') ?? 0;
  setupPerWorker.delete('main');
  const setup = main + Math.max(0, ...setupPerWorker.values());
  const exact = runSim(circuit, xs.subarray(0, 200 * 784), 200);
  const agree = exact.filter((r, i) => r.prediction === seal.records[i]!.prediction).length;
  const evalMs = wall - setup;
  const perThread = 1000 / seal.records[0]!.timings.reduce((a, t) => a + t.ms, 0);
  return {
    throughputRow:
      `| ${cfg.model} k=${cfg.k} | ${circuit.params.polyModulusDegree} | ${circuit.report.depth} | ${seal.workers} × ${batch} | ` +
      `${(evalMs / 1000).toFixed(1)} s | **${((1000 * total) / evalMs).toFixed(1)}** | ${perThread.toFixed(1)} | ` +
      `${(circuit.report.predicted.latencyMs / 1000).toFixed(1)} s | ${agree}/200 | ${(setup / 1000).toFixed(1)} s |`,
  };
}

const SELF = fileURLToPath(import.meta.url);
const RESULT_PREFIX = 'E2E-RESULT ';
/** A configuration that takes longer than this is reported as failed (30 min: the throughput batch takes ~6). */

/** Run one measurement in a child process; a failure becomes a row naming it. */
function inChildOf(kind: 'latency' | 'throughput', index: number, label: string): Measured | { error: string } {
  return inChild<Measured>(SELF, [`--${kind}`, String(index)], RESULT_PREFIX, label);
}

export function run(): void {
  const summary: string[] = [];
  const stageRows: string[] = [];
  const throughputRows: string[] = [];
  CONFIGS.forEach((cfg, i) => {
    const m = inChildOf('latency', i, `${cfg.model} k=${cfg.k}`);
    if ('error' in m) summary.push(`| failed: ${m.error.replace(/\|/g, '/')} |`);
    else if ('summary' in m) {
      summary.push(m.summary);
      stageRows.push(...m.stageRows);
    }
  });
  // PANN_BENCH_THROUGHPUT=0 skips the throughput batch
  if (process.env.PANN_BENCH_THROUGHPUT !== '0') {
    THROUGHPUT.forEach((cfg, i) => {
      const m = inChildOf('throughput', i, `${cfg.model} k=${cfg.k}`);
      if ('error' in m) throughputRows.push(`| failed: ${m.error.replace(/\|/g, '/')} |`);
      else if ('throughputRow' in m) throughputRows.push(m.throughputRow);
    });
  }
  process.stdout.write(
    [
      '| throughput circuit | N | depth | workers × inputs per batch | wall time (encrypt → decrypt) | inputs/s (all workers) | inputs/s per thread | predicted batch (1 thread) | seal = sim (first 200) | setup |',
      '|---|---|---|---|---|---|---|---|---|---|',
      ...throughputRows,
      '',
      '| circuit | N | depth | float acc | PANN acc (sim, noise) | seal = sim | changed by noise, expected (compile) | max logit err vs sim | latency ms (median) | predicted eval ms | measured/predicted eval | images/s (1 thread) | setup (keys, encode) |',
      '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
      ...summary,
      '',
      '| circuit | stage | median ms | predicted ms |',
      '|---|---|---|---|',
      ...stageRows,
      '',
    ].join('\n'),
  );
}

if (process.argv[1] && SELF === process.argv[1]) {
  const [flag, index] = process.argv.slice(2);
  if (flag === '--latency' || flag === '--throughput') {
    const defaultImages = Number(process.env.PANN_BENCH_IMAGES ?? 200);
    const m =
      flag === '--latency'
        ? await measureLatency(CONFIGS[Number(index)]!, defaultImages)
        : await measureThroughput(THROUGHPUT[Number(index)]!);
    process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(m)}\n`);
    // the SEAL objects are freed; exit without waiting for the WASM runtime's teardown
    process.exit(0);
  } else run();
}
