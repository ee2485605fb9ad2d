/**
 * Encrypted residual networks (issue 13's targets): for each shipped Fashion-MNIST ResNet,
 *
 * 1. the precision sweep: the float model against its polynomial network (every ReLU replaced by the stand-in the
 *    compiler fits at precision k on its calibrated range) on the test split, and the smallest k within 0.5 points;
 * 2. the circuit at that k (a refresh round before every activation layer but the first; rotation keys within
 *    the compiler's memory budget, GALOIS_KEY_MEMORY): ring, chain, rounds, bytes per inference, keys, the
 *    predicted cost per residual block;
 * 3. measured: SEAL per image with both roles in one process (`--link local`), SEAL = sim on the first E test
 *    images, and the accuracy of sim with the CKKS noise model on the first S test images.
 *
 * Data: calibration on the official training images (Debian's dataset-fashion-mnist) when present, else the
 * vendored split's training part; accuracy on the vendored test split (1000 images, pann's `--dataset
 * fashion-mnist`). PANN_BENCH_RESNET_MODELS (default fashion-resnet8), PANN_BENCH_RESNET_K (the sweep, default
 * 7,8,9,10,11), PANN_BENCH_RESNET_SEAL (E, default 2), PANN_BENCH_RESNET_SIM (S, default 1000), PANN_BENCH_RESNET_OUT (a folder: the circuit is saved there),
 * PANN_BENCH_RESNET_SPLIT (threads each SEAL image is also split over, `pann run --threads-per-input`; default 2, 1 = off). Each model runs in
 * its own child process (bench/child.ts).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { saveCircuit, type Circuit } from '../src/circuit/index.js';
import { calibrateRanges } from '../src/compiler/calibrate.js';
import { compileNetwork } from '../src/compiler/compile.js';
import { foldModel } from '../src/compiler/fold.js';
import { fitterProvider } from '../src/compiler/polynomialise.js';
import { headDataset } from '../src/nn/dataset.js';
import { FASHION_MNIST_DEBIAN_DIR, loadFashionMnistFull, loadFashionMnistSplit } from '../src/nn/fashion-mnist.js';
import { argmax, predict } from '../src/nn/inference.js';
import type { Layer, Model } from '../src/nn/model.js';
import { loadModel } from '../src/nn/model-file.js';
import { runSim } from '../src/runtime/inference.js';
import { runSeal } from '../src/runtime/seal-inference.js';
import { runSealParallel } from '../src/runtime/seal-parallel.js';
import { inChild, median } from './child.js';

const root = new URL('../../', import.meta.url);
const SELF = fileURLToPath(import.meta.url);
const RESULT_PREFIX = 'RESNET-RESULT ';
const CALIBRATION = 1000;
const BUDGET_POINTS = 0.5;

const env = (name: string, fallback: string) => process.env[name] ?? fallback;

function calibrationData(): { inputs: Float64Array; count: number; label: string } {
  if (existsSync(FASHION_MNIST_DEBIAN_DIR)) {
    const ds = headDataset(loadFashionMnistFull('train'), CALIBRATION);
    return { inputs: ds.inputs, count: ds.count, label: `fashion-mnist-full train[0:${CALIBRATION}]` };
  }
  const ds = headDataset(loadFashionMnistSplit('train'), CALIBRATION);
  return { inputs: ds.inputs, count: ds.count, label: `fashion-mnist train[0:${CALIBRATION}]` };
}

/** The model with every activation layer replaced by the compiler's stand-in at precision k (unclamped, as the circuit). */
function polynomialModel(model: Model, k: number, Bs: readonly number[]): Model {
  const provider = fitterProvider();
  let n = 0;
  const layers = model.layers.map((l): Layer => {
    if (l.type !== 'activation') return l;
    const B = Bs[n++]!;
    const { approximation } = provider({ activation: l.activation, B, precisionBits: k, method: 'auto' });
    return { type: 'polynomial', clamp: false, approximation, ...(l.from !== undefined ? { from: l.from } : {}) };
  });
  return { ...model, layers };
}

function accuracy(predictions: ArrayLike<number>, labels: ArrayLike<number>): number {
  let ok = 0;
  for (let i = 0; i < labels.length; i++) if (predictions[i] === labels[i]) ok++;
  return ok / labels.length;
}

/** Predicted ms per residual block: stages grouped up to each activation that follows a residual add. */
function perBlock(c: Circuit): string[] {
  const ms = new Map(c.report.predicted.latencyMsPerStage.map((s) => [s.name, s.ms]));
  const out: string[] = [];
  let group: string[] = [];
  let sawAdd = false;
  const flush = (label: string) => {
    if (!group.length) return;
    const total = group.reduce((a, n) => a + (ms.get(n) ?? 0), 0);
    out.push(`| ${label} | ${group.join(', ')} | ${total.toFixed(0)} |`);
    group = [];
  };
  c.stages.forEach((s, i) => {
    group.push(s.name);
    if (s.name.includes('add#')) sawAdd = true;
    if (s.kind === 'activation' && (sawAdd || i === 1)) {
      flush(i === 1 ? 'stem' : `block ${out.length}`);
      sawAdd = false;
    }
  });
  flush('head');
  return out;
}

interface Result {
  lines: string[];
}

/** Progress of the child, on stderr (the parent keeps stdout for the result line). */
function progress(name: string, t0: number, what: string): void {
  process.stderr.write(`resnet ${name} +${((performance.now() - t0) / 1000).toFixed(0)} s: ${what}\n`);
}

async function measure(name: string): Promise<Result> {
  const start = performance.now();
  const say = (what: string) => progress(name, start, what);
  const lines: string[] = [];
  // each table line also goes to stderr as it is made: a run that dies later (SEAL's heap) keeps what it measured
  const emit = (...l: string[]) => {
    lines.push(...l);
    process.stderr.write(`${l.join('\n')}\n`);
  };
  const model = loadModel(fileURLToPath(new URL(`models/${name}.json`, root)));
  const cal = calibrationData();
  const test = loadFashionMnistSplit('test');
  const floatAcc = accuracy(argmax(predict(model, test.inputs), 10), test.labels);
  const Bs = calibrateRanges(foldModel(model), cal.inputs, cal.count, 784).ranges.map((r) => r.B);
  const ks = env('PANN_BENCH_RESNET_K', '7,8,9,10,11').split(',').map(Number);
  emit(`### ${name}: float ${(100 * floatAcc).toFixed(1)} % on the fashion-mnist test split (${test.count} images)`, '');
  emit('| k | polynomial network (float64) | loss, points |', '|---|---|---|');
  let chosen: number | null = null;
  for (const k of ks) {
    say(`polynomial network at k=${k} on ${test.count} test images`);
    const acc = accuracy(argmax(predict(polynomialModel(model, k, Bs), test.inputs), 10), test.labels);
    emit(`| ${k} | ${(100 * acc).toFixed(1)} % | ${(100 * (floatAcc - acc)).toFixed(1)} |`);
    if (chosen === null && 100 * (floatAcc - acc) <= BUDGET_POINTS) chosen = k;
  }
  const k = chosen ?? ks[ks.length - 1]!;
  emit('', `smallest k within ${BUDGET_POINTS} points: ${chosen ?? `none (compiled at ${k})`}`, '');

  const activations = model.layers.filter((l) => l.type === 'activation').length;
  say(`compiling at k=${k}`);
  const t0 = performance.now();
  const c = compileNetwork(model, {
    precisionBits: k,
    calibration: cal,
    provider: fitterProvider(),
    refresh: { before: Array.from({ length: activations - 1 }, (_, i) => i + 1) },
  });
  const compileS = (performance.now() - t0) / 1000;
  const out = process.env['PANN_BENCH_RESNET_OUT'];
  if (out) saveCircuit(`${out}/${name}-k${k}.json`, c); // to run it again without compiling (pann run)
  const r = c.report;
  const split = r.predicted.split!;
  const perRound = r.refresh?.perRound ?? [];
  emit(
    `circuit at k=${k}: N=${r.ringDimension}, ${c.params.maxLevel} levels × ${r.scaleBits} bits, ${r.refresh?.rounds ?? 0} rounds ` +
      `(${perRound.map((q) => q.ciphertexts).join('+')} ciphertexts), ${r.rotationSteps.length} rotation keys, ` +
      `keys ${(r.predicted.evaluationKeyUploadBytes / 1e6).toFixed(0)} MB seeded; per inference ${(split.bytesUp / 1e6).toFixed(1)} MB up, ` +
      `${(split.bytesDown / 1e6).toFixed(1)} MB down; predicted ${split.serverMs.toFixed(0)} ms server + ${split.clientMs.toFixed(0)} ms key holder; ` +
      `${r.opCounts.plainMultiplications} pt×ct, ${r.opCounts.rotations} rotations, ${r.opCounts.ctMultiplications} ct×ct; compile ${compileS.toFixed(0)} s`,
    '',
    '| part | stages | predicted ms |',
    '|---|---|---|',
    ...perBlock(c),
    '',
  );

  const S = Math.min(Number(env('PANN_BENCH_RESNET_SIM', '1000')), test.count);
  say(`compiled in ${compileS.toFixed(0)} s; sim with CKKS noise on ${S} images`);
  const noisy = runSim(c, test.inputs.subarray(0, S * 784), S, { noise: { seed: 1 } });
  const simAcc = accuracy(
    noisy.map((q) => q.prediction),
    test.labels.subarray(0, S),
  );
  const floatS = accuracy(argmax(predict(model, test.inputs.subarray(0, S * 784)), 10), test.labels.subarray(0, S));
  const E = Math.min(Number(env('PANN_BENCH_RESNET_SEAL', '2')), test.count);
  const exact = runSim(c, test.inputs.subarray(0, E * 784), E);
  say(`SEAL on ${E} images`);
  const seal = await runSeal(c, test.inputs.subarray(0, E * 784), E, {
    onSetup: (stage) => say(`SEAL setup: ${stage}`),
    onProgress: (done, total) => say(`SEAL ${done}/${total}`),
  });
  const agree = seal.records.filter((q, i) => q.prediction === exact[i]!.prediction).length;
  let maxErr = 0;
  seal.records.forEach((q, i) => q.logits.forEach((v, j) => (maxErr = Math.max(maxErr, Math.abs(v - exact[i]!.logits[j]!)))));
  const perImage = median(seal.records.map((q) => q.timings.reduce((a, t) => a + t.ms, 0)));
  const T = Number(env('PANN_BENCH_RESNET_SPLIT', '2'));
  say(`SEAL on ${E} images, each split over ${T} threads`);
  const split2 =
    T > 1
      ? await runSealParallel(c, test.inputs.subarray(0, E * 784), E, {
          split: T,
          onProgress: (done, total) => say(`SEAL split ${done}/${total}`),
        })
      : null;
  const splitAgree = split2 ? split2.records.filter((q, i) => q.prediction === exact[i]!.prediction).length : 0;
  const perImageSplit = split2 ? median(split2.records.map((q) => q.timings.reduce((a, t) => a + t.ms, 0))) : NaN;
  emit(
    `measured: SEAL ${(perImage / 1000).toFixed(1)} s per image on one thread (median of ${E}, local link; setup ${seal.setup.map((s) => `${s.name} ${(s.ms / 1000).toFixed(1)} s`).join(', ')}); ` +
      (split2
        ? `${(perImageSplit / 1000).toFixed(1)} s split over ${T} threads (${(perImage / perImageSplit).toFixed(2)}× in this run, SEAL = sim on ${splitAgree}/${E}); `
        : '') +
      `SEAL = sim on ${agree}/${E} (max logit difference ${maxErr.toExponential(1)}); sim with CKKS noise ${(100 * simAcc).toFixed(1)} % ` +
      `on the first ${S} test images (float ${(100 * floatS).toFixed(1)} %)`,
  );
  return { lines };
}

export function run(): void {
  const out: string[] = [];
  for (const name of env('PANN_BENCH_RESNET_MODELS', 'fashion-resnet8').split(',')) {
    const m = inChild<Result>(SELF, ['--model', name], RESULT_PREFIX, name);
    out.push(...('error' in m ? [`${name} failed: ${m.error}`] : m.lines), '');
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

if (process.argv[1] && SELF === process.argv[1]) {
  const [flag, name] = process.argv.slice(2);
  if (flag === '--model') {
    const m = await measure(name!);
    process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(m)}\n`);
    process.exit(0);
  } else run();
}
