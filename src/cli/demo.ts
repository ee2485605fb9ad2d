/**
 * `pann demo`: the main job on a built-in default, no arguments needed — the shipped MNIST CNN is compiled at a
 * precision that keeps its accuracy (activations fitted or taken from the catalog), a few test digits are
 * classified under real CKKS encryption, and the simulator measures the accuracy on the test split.
 */
import { existsSync } from 'node:fs';
import { Command } from 'commander';
import type { Circuit } from '../circuit/index.js';
import { InputError } from '../errors.js';
import { argmax, predict } from '../nn/inference.js';
import type { Dataset } from '../nn/dataset.js';
import { loadMnistSplit } from '../nn/mnist.js';
import type { Model } from '../nn/model.js';
import { runSim } from '../runtime/inference.js';
import { runSeal } from '../runtime/seal-inference.js';
import { COMPILE_DEFAULTS, type CompileFlags, compileWithFlags, formatReport } from './compile.js';
import { action, intOption, precisionOption, printJson, ProgressBar } from './common.js';
import { loadModelOrOnnx } from './load-model.js';

/**
 * The demo's defaults: the shipped one-activation CNN whose ReLU was replaced by its precision-6 minimax stand-in
 * (degree 10) and fine-tuned with it in place — within 0.5 points of the float ReLU network, and shallow enough
 * for N=8192 (≈ 0.2 s per encrypted image). `--model models/mnist-cnn-relu.json -k 7` runs a ReLU network fitted
 * at compile time instead (N=16384, seconds per image).
 */
export const DEMO_MODEL = 'models/mnist-cnn1-relu-poly6.json';
export const DEMO_PRECISION = 6;

interface DemoFlags {
  model: string;
  precision: number;
  count: number;
  simCount: number;
  json?: boolean;
  quiet?: boolean;
}

function pct(x: number): string {
  return `${(100 * x).toFixed(2)}%`;
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('the whole path on the shipped MNIST CNN: fit → compile → encrypted inference → accuracy and latency')
    .option('--model <file>', 'model to run (pann JSON or ONNX)', DEMO_MODEL)
    .option('-k, --precision <k>', 'activation precision: max error ≤ B·2^-k on [-B, B]', precisionOption('--precision'), DEMO_PRECISION)
    .option('--count <n>', 'test digits classified under real encryption', intOption('--count', 1, 1000), 5)
    .option('--sim-count <n>', 'test digits classified by the simulator (with CKKS noise)', intOption('--sim-count', 0, 1000), 1000)
    .option('--json', 'print the results as JSON')
    .option('-q, --quiet', 'no progress output')
    .addHelpText(
      'after',
      `
Runs in about 7 s on 2 cores (0.2 s per encrypted digit). Every step has its own command: pann fit, pann compile, pann run, pann serve.

Examples:
  $ pann demo
  $ pann demo --model models/mnist-cnn-ulu.json --precision 6 --count 10`,
    )
    .action(action('demo', demoCommand));
}

/** What the demo prints as it goes (nothing with --json or --quiet). */
type Say = (s: string) => void;

/** `pann demo`: float accuracy → compile → encrypted inference on a few digits → simulated accuracy → summary. */
async function demoCommand(flags: DemoFlags): Promise<void> {
  if (!existsSync(flags.model)) throw new InputError(`model ${flags.model} does not exist (run from the repository root)`);
  const say: Say = (s) => {
    if (!flags.json && !flags.quiet) process.stdout.write(`${s}\n`);
  };
  const quiet = !!flags.quiet || !!flags.json;
  const t0 = performance.now();
  const model: Model = loadModelOrOnnx(flags.model);
  const test = loadMnistSplit('test');
  const float = floatStep(model, test, say);
  const circuit = compileStep(model, flags.precision, say);
  const encrypted = await encryptedStep(circuit, test, float.predictions, flags.count, quiet, say);
  const simulated = flags.simCount > 0 ? simulatedStep(circuit, test, float.predictions, flags.simCount, quiet, say) : null;
  const totalMs = performance.now() - t0;
  say(`done in ${(totalMs / 1000).toFixed(1)} s`);
  if (flags.json) {
    printJson({
      model: model.name,
      precision: flags.precision,
      floatAccuracy: float.accuracy,
      circuit: circuit.report,
      encrypted,
      simulated,
      totalMs,
    });
  }
}

/** 1. The float model's predictions and accuracy on the test split. */
function floatStep(model: Model, test: Dataset, say: Say): { predictions: Int32Array; accuracy: number } {
  const predictions = argmax(predict(model, test.inputs), 10);
  const accuracy = Array.from(predictions).filter((p, i) => p === test.labels[i]).length / test.count;
  const polyLayers = model.layers.filter((l) => l.type === 'polynomial').length;
  say(
    `1. model ${model.name}: plaintext float64 test accuracy ${pct(accuracy)} on ${test.count} MNIST test digits` +
      (polyLayers ? ` (a PANN: ${polyLayers} activation layer(s) already polynomial, fitted and fine-tuned)` : ''),
  );
  return { predictions, accuracy };
}

/** 2. Compile at the precision with `pann compile`'s defaults, and show the plan. */
function compileStep(model: Model, precision: number, say: Say): Circuit {
  const compileFlags: CompileFlags = { ...COMPILE_DEFAULTS, precision: [precision] };
  const tc = performance.now();
  const circuit: Circuit = compileWithFlags(model, compileFlags);
  const compileMs = performance.now() - tc;
  say(`2. compiled at precision ${precision} in ${(compileMs / 1000).toFixed(1)} s:\n`);
  say(formatReport(circuit).replace(/^/gm, '   '));
  return circuit;
}

/** 3. The first `count` test digits under real encryption: predictions, accuracy, median latency (total and per stage). */
async function encryptedStep(circuit: Circuit, test: Dataset, floatPred: Int32Array, count: number, quiet: boolean, say: Say) {
  const size = 784;
  const n = Math.min(count, test.count);
  const bar = new ProgressBar('3. encrypted inference', { quiet });
  const seal = await runSeal(circuit, test.inputs.subarray(0, n * size), n, { onProgress: (d, t) => bar.update(d, t) });
  bar.done();
  say(`   setup: ${seal.setup.map((s) => `${s.name} ${(s.ms / 1000).toFixed(1)} s`).join(', ')}`);
  const rows = seal.records.map((r, i) => ({
    index: i,
    label: test.labels[i]!,
    encrypted: r.prediction,
    float: floatPred[i]!,
    ms: r.timings.reduce((s, t) => s + t.ms, 0),
  }));
  for (const r of rows) {
    say(`   digit ${r.index}: label ${r.label}, encrypted prediction ${r.encrypted}, float ${r.float}  (${r.ms.toFixed(0)} ms)`);
  }
  const accuracy = rows.filter((r) => r.encrypted === r.label).length / n;
  const latency = rows.map((r) => r.ms).sort((a, b) => a - b)[Math.floor(n / 2)]!;
  const perStage = seal.records[0]!.timings.map((t, i) => ({
    name: t.name,
    ms: seal.records.map((r) => r.timings[i]!.ms).sort((a, b) => a - b)[Math.floor(n / 2)]!,
  }));
  say(`   median latency ${latency.toFixed(0)} ms per image (${perStage.map((s) => `${s.name} ${s.ms.toFixed(0)}`).join(', ')})`);
  return { results: rows, accuracy, medianLatencyMs: latency, perStageMs: perStage, setup: seal.setup };
}

/** 4. The first `count` test digits through the simulator with CKKS noise: accuracy and agreement with float. */
function simulatedStep(
  circuit: Circuit,
  test: Dataset,
  floatPred: Int32Array,
  count: number,
  quiet: boolean,
  say: Say,
): { accuracy: number; agreementWithFloat: number } {
  const size = 784;
  const m = Math.min(count, test.count);
  const bar = new ProgressBar('4. simulated (with CKKS noise)', { quiet });
  const sim = runSim(circuit, test.inputs.subarray(0, m * size), m, {
    noise: { seed: 1 },
    onProgress: (d, t) => bar.update(d, t),
  });
  bar.done();
  const accuracy = sim.filter((r, i) => r.prediction === test.labels[i]).length / m;
  const agreement = sim.filter((r, i) => r.prediction === floatPred[i]).length / m;
  const floatSub = Array.from(floatPred.subarray(0, m)).filter((p, i) => p === test.labels[i]).length / m;
  say(
    `   polynomial network on ${m} test digits: accuracy ${pct(accuracy)} (float ${pct(floatSub)}), agreement with float ${pct(agreement)}`,
  );
  return { accuracy, agreementWithFloat: agreement };
}
