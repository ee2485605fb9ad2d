/**
 * `pann run <circuit> --backend seal|sim`: encrypt, evaluate, decrypt; compare with the float model and (for
 * seal) with the sim backend; print predictions, max logit error and timing per stage.
 */
import { Command, Option } from 'commander';
import type { Circuit } from '../circuit/index.js';
import { loadCircuit } from '../circuit/index.js';
import { countOutsideRange } from '../compiler/calibrate.js';
import { foldModel } from '../compiler/fold.js';
import { InputError } from '../errors.js';
import { argmax, predict } from '../nn/inference.js';
import { BUILT_IN_DATASETS } from '../nn/data-source.js';
import { loadMnistSplit, type MnistSplit } from '../nn/mnist.js';
import { type InferenceRecord, runSim } from '../runtime/inference.js';
import { runSeal } from '../runtime/seal-inference.js';
import type { StageDone } from '../runtime/executor.js';
import { runSealParallel } from '../runtime/seal-parallel.js';
import { action, intOption, printJson, ProgressBar } from './common.js';
import { readImageFiles, readInputsFile } from './predict.js';
import { dataPartFromFlags } from './data-options.js';
import { resolveFloatModel } from './float-model.js';

export interface RunFlags {
  backend: 'seal' | 'sim';
  index?: number;
  count?: number;
  input?: string;
  model?: string;
  forceModel?: boolean;
  image?: string[];
  noise?: boolean;
  seed: number;
  json?: boolean;
  quiet?: boolean;
  workers?: number;
  threadsPerInput?: number;
  split?: MnistSplit;
  /** A built-in dataset for --index / --count (default: the one the circuit was calibrated on, else MNIST). */
  dataset?: (typeof BUILT_IN_DATASETS)[number];
}

export interface RunInputs {
  inputs: Float64Array;
  count: number;
  labels: Int32Array | null;
  /** Test-split indices, when the inputs come from it. */
  indices: number[] | null;
}

/** Inputs chosen by --index / --count / --input. */
export function inputsFor(circuit: Circuit, flags: Pick<RunFlags, 'index' | 'count' | 'input' | 'image' | 'split' | 'dataset'>): RunInputs {
  const given = [flags.index !== undefined, flags.count !== undefined, flags.input !== undefined, flags.image !== undefined];
  if (given.filter(Boolean).length > 1) throw new InputError('give one of --index, --count, --input or --image');
  const size = circuit.inputLayout.length;
  if (flags.input || flags.image) {
    const inputs = flags.input ? readInputsFile(flags.input, size) : readImageFiles(flags.image!, size);
    return { inputs, count: inputs.length / size, labels: null, indices: null };
  }
  if (size !== 784) throw new InputError(`circuit ${circuit.name} takes ${size} inputs, not a 28×28 image: use --input inputs.json`);
  const split = flags.split ?? 'test';
  const dataset = flags.dataset ?? circuitDataset(circuit);
  const test = dataset === 'mnist' ? loadMnistSplit(split) : dataPartFromFlags({ dataset }, split);
  if (flags.count !== undefined && flags.count > test.count) {
    throw new InputError(
      `--count ${flags.count} is more than the ${test.count} digits of the ${split} split` +
        (split === 'train' ? '; use --input for more' : ' (--split train has 8000; --input takes any file)'),
    );
  }
  const indices = flags.index !== undefined ? [flags.index] : Array.from({ length: flags.count ?? 1 }, (_, i) => i);
  for (const i of indices)
    if (i < 0 || i >= test.count) throw new InputError(`--index ${i} is outside the ${split} split (0..${test.count - 1})`);
  const inputs = new Float64Array(indices.length * size);
  indices.forEach((i, n) => inputs.set(test.inputs.subarray(i * size, (i + 1) * size), n * size));
  return { inputs, count: indices.length, labels: Int32Array.from(indices, (i) => test.labels[i]!), indices };
}

/** The built-in dataset a circuit was calibrated on (its source label, e.g. "fashion-mnist train[0:1000]"), else MNIST. */
function circuitDataset(circuit: Circuit): (typeof BUILT_IN_DATASETS)[number] {
  const name = circuit.source?.calibration.label.split(' ')[0];
  return name === 'fashion-mnist' || name === 'fashion-mnist-full' ? name : 'mnist';
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)]! : NaN;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run a compiled circuit encrypted (SEAL) or simulated, and compare with the float model')
    .argument('<circuit>', 'circuit file (pann-circuit JSON from `pann compile`)')
    .addOption(
      new Option('-b, --backend <backend>', 'seal = real CKKS encryption; sim = float64 plaintext, op for op')
        .choices(['seal', 'sim'])
        .default('seal'),
    )
    .option('--index <i>', 'one test image by index (of --dataset)', intOption('--index', 0, 1e9))
    .option('--count <n>', 'the first n images of the split (of --dataset)', intOption('--count', 1, 100000))
    .addOption(new Option('--split <name>', 'split for --index / --count').choices(['test', 'train', 'validation']).default('test'))
    .addOption(
      new Option(
        '--dataset <name>',
        'built-in dataset for --index / --count (default: the one the circuit was calibrated on, else mnist)',
      ).choices([...BUILT_IN_DATASETS]),
    )
    .option('-i, --input <file>', 'a JSON array of flat input vectors (as for `pann predict`)')
    .option(
      '--image <file.png...>',
      'PNG digits (preprocessed as `pann client infer --image` does: grey, inverted if light, MNIST-normalised 28×28)',
    )
    .option(
      '--model <file>',
      'the float model to compare with (default: the model the circuit was compiled from, found by the path and weights hash it records)',
    )
    .option('--force-model', 'compare with --model even if its weights are not those the circuit was compiled from')
    .option('--noise', 'sim backend: add CKKS-like noise at every op (seeded)')
    .option('--seed <n>', 'seed of the sim noise', intOption('--seed', 0, 2 ** 31 - 1), 1)
    .option(
      '-w, --workers <n>',
      'seal backend: worker threads, each with its own SEAL instance and a share of the inputs (whole batches in throughput mode); default 1, in this thread',
      intOption('--workers', 1, 64),
    )
    .option(
      '--threads-per-input <n>',
      "seal backend, latency circuit: split each input's ops over n threads, each with its own SEAL instance (lower latency per input, not more inputs per second; docs/compiler.md); default 1",
      intOption('--threads-per-input', 1, 16),
    )
    .option('--json', 'print [{ "logits", "prediction", "floatPrediction" }, ...] and timings as JSON')
    .option('-q, --quiet', 'no progress bar')
    .addHelpText(
      'after',
      `
Examples:
  $ pann run circuits/mnist-cnn-relu.json --backend seal --count 10
  $ pann run circuits/mnist-cnn-relu.json --backend sim --count 1000 --noise
  $ pann run circuits/mnist-cnn-relu.json --input digits.json --json
  $ pann run circuits/cnn1-batch.json --backend seal --split train --count 8000 --workers 2   # throughput circuit: a batch per core
  $ pann run resnet.json --backend seal --count 5 --threads-per-input 2   # one deep network's input on both cores`,
    )
    .action(action('run', runCommand));
}

/** `pann run`: run the circuit on the chosen inputs, compare with the float model (and sim), print the results. */
async function runCommand(file: string, flags: RunFlags): Promise<void> {
  if (flags.workers !== undefined && flags.backend !== 'seal') throw new InputError('--workers applies to the seal backend only');
  if (flags.threadsPerInput !== undefined && flags.backend !== 'seal')
    throw new InputError('--threads-per-input applies to the seal backend only');
  if ((flags.threadsPerInput ?? 1) > 1 && (flags.workers ?? 1) > 1)
    throw new InputError('--workers splits the inputs and --threads-per-input splits each input: give one of them');
  const circuit = loadCircuit(file);
  if ((flags.threadsPerInput ?? 1) > 1 && circuit.mode !== 'latency')
    throw new InputError(`--threads-per-input: ${file} is a throughput circuit; it splits its batch over --workers instead`);
  const data = inputsFor(circuit, flags);
  const found = resolveFloatModel(circuit, file, { ...(flags.model ? { given: flags.model } : {}), force: flags.forceModel === true });
  const model = found.model;
  const warning = underfilledWarning(circuit, data.count);
  if (warning && !flags.quiet) process.stderr.write(`warning: ${warning}\n`);
  const run = await runOnBackend(circuit, data, flags);
  const classes = circuit.outputLayout.length;
  const floatLogits = model ? predict(model, data.inputs) : null;
  const float = floatLogits ? { logits: floatLogits, predictions: argmax(floatLogits, classes) } : null;
  const rows = resultRows(data, run, float, classes);
  // activation inputs outside [-B, B] for these inputs (a polynomial outside its range silently explodes)
  const ranges = model
    ? countOutsideRange(
        foldModel(model),
        data.inputs,
        data.count,
        circuit.inputLayout.length,
        circuit.report.activations.map((a) => a.B),
      )
    : null;
  const summary = {
    ...runSummary(flags.backend, circuit, data, run, rows, float?.predictions ?? null, ranges),
    floatModel: found.model ? { path: found.path, sha256: found.sha256, matchesCircuit: found.matchesCircuit } : null,
    floatModelNote: found.note,
    warnings: warning ? [warning] : [],
  };
  if (flags.json) {
    printJson({ results: rows, summary });
    return;
  }
  process.stdout.write(`${runReport(circuit, data, flags.backend, run, rows, summary, ranges).join('\n')}\n`);
}

/** What the backend returned: a record per input, the setup steps (seal), and the sim records to compare with (seal). */
interface BackendRun {
  records: InferenceRecord[];
  setup: { name: string; ms: number }[];
  simRecords: InferenceRecord[] | null;
}

/** Run the inputs through the sim backend, or through SEAL (in this thread or on workers) and then sim to compare. */
async function runOnBackend(circuit: Circuit, data: RunInputs, flags: RunFlags): Promise<BackendRun> {
  const quiet = !!flags.quiet || !!flags.json;
  const batch = circuit.mode === 'throughput' ? circuit.params.slotCount : 1;
  const unit = batch > 1 ? ` inputs (batches of ${batch} slots)` : ' inputs';
  const bar = new ProgressBar(`run (${flags.backend})`, { quiet });
  const onProgress = (d: number, t: number) => bar.update(d, t, unit);
  // a throughput batch or a large ring takes long inside one evaluation: say which stage finished
  const onStage = (st: StageDone) => bar.note(`${st.name} done (stage ${st.index + 1}/${st.count}, ${(st.ms / 1000).toFixed(1)}s)`);
  let run: BackendRun;
  if (flags.backend === 'sim') {
    const records = runSim(circuit, data.inputs, data.count, { ...(flags.noise ? { noise: { seed: flags.seed } } : {}), onProgress });
    run = { records, setup: [], simRecords: null };
  } else {
    bar.update(0, data.count, unit);
    const onSetup = (name: string, ms?: number) => bar.note(ms === undefined ? `${name}…` : `${name}: ${(ms / 1000).toFixed(1)}s`, true);
    const options = { onProgress, onSetup, onStage };
    const split = flags.threadsPerInput ?? 1;
    const res =
      (flags.workers ?? 1) > 1 || split > 1
        ? await runSealParallel(circuit, data.inputs, data.count, { workers: flags.workers ?? 1, split, ...options })
        : await runSeal(circuit, data.inputs, data.count, options);
    bar.note('the same inputs in sim, to compare');
    run = { records: res.records, setup: res.setup, simRecords: runSim(circuit, data.inputs, data.count) };
  }
  bar.done();
  return run;
}

/** A throughput circuit given fewer inputs than a batch holds: every batch costs as much as a full one. */
export function underfilledWarning(circuit: Circuit, count: number): string | null {
  if (circuit.mode !== 'throughput') return null;
  const slots = circuit.params.slotCount;
  const batches = Math.ceil(count / slots);
  if (count >= batches * slots) return null;
  const predicted = circuit.report.predicted.latencyMs;
  return (
    `throughput circuit: ${count} input(s) fill ${count} of the ${batches * slots} slots of ${batches} batch(es); ` +
    `each batch costs as much as a full one (${(predicted / 1000).toFixed(1)} s predicted on one thread). ` +
    `For a few inputs compile in latency mode; for throughput give multiples of ${slots} inputs.`
  );
}

/** Throughput runs: the time per batch (what the run costs), per filled slot, and per slot of a full batch (what compile predicts). */
function throughputTiming(circuit: Circuit, records: InferenceRecord[]) {
  if (circuit.mode !== 'throughput') return null;
  const slots = circuit.params.slotCount;
  const batchMs: number[] = [];
  for (let start = 0; start < records.length; start += slots) {
    const n = Math.min(slots, records.length - start);
    // records carry their batch's stage times divided by the inputs in it
    batchMs.push(records[start]!.timings.reduce((a, t) => a + t.ms, 0) * n);
  }
  const perBatch = median(batchMs);
  return {
    slots,
    batches: batchMs.length,
    filled: records.length,
    perBatchMs: perBatch,
    perFilledSlotMs: batchMs.reduce((a, b) => a + b, 0) / records.length,
    perSlotOfFullBatchMs: perBatch / slots,
    predictedPerBatchMs: circuit.report.predicted.latencyMs,
    predictedPerSlotMs: circuit.report.predicted.latencyMs / slots,
  };
}

/** One result per input: logits and prediction, with the float model's and the simulator's when there are. */
interface RunRow {
  index?: number;
  label?: number;
  logits: number[];
  prediction: number;
  floatPrediction?: number;
  maxLogitErrorVsFloat?: number;
  simPrediction?: number;
  maxLogitErrorVsSim?: number;
}

function resultRows(
  data: RunInputs,
  run: BackendRun,
  float: { logits: Float64Array; predictions: ArrayLike<number> } | null,
  classes: number,
): RunRow[] {
  const { simRecords } = run;
  return run.records.map((r, n) => ({
    ...(data.indices ? { index: data.indices[n] } : {}),
    ...(data.labels ? { label: data.labels[n] } : {}),
    logits: Array.from(r.logits),
    prediction: r.prediction,
    ...(float
      ? {
          floatPrediction: float.predictions[n]!,
          maxLogitErrorVsFloat: maxAbsDiff(r.logits, float.logits.subarray(n * classes, (n + 1) * classes)),
        }
      : {}),
    ...(simRecords ? { simPrediction: simRecords[n]!.prediction, maxLogitErrorVsSim: maxAbsDiff(r.logits, simRecords[n]!.logits) } : {}),
  }));
}

type OutsideRange = ReturnType<typeof countOutsideRange>;

/** Accuracy and agreement (where there are labels, a float model, sim records), ranges and median timings. */
function runSummary(
  backend: RunFlags['backend'],
  circuit: Circuit,
  data: RunInputs,
  run: BackendRun,
  rows: RunRow[],
  floatPred: ArrayLike<number> | null,
  ranges: OutsideRange | null,
) {
  const { records, simRecords } = run;
  const stageNames = records[0]!.timings.map((t) => t.name);
  const timing = stageNames.map((name, i) => ({ name, medianMs: median(records.map((r) => r.timings[i]!.ms)) }));
  const totalMs = median(records.map((r) => r.timings.reduce((s, t) => s + t.ms, 0)));
  return {
    backend,
    count: data.count,
    ...(data.labels ? { accuracy: rows.filter((r) => r.prediction === r.label).length / data.count } : {}),
    ...(floatPred && data.labels
      ? { floatAccuracy: Array.from(floatPred).filter((p, n) => p === data.labels![n]).length / data.count }
      : {}),
    ...(floatPred ? { agreementWithFloat: rows.filter((r) => r.prediction === r.floatPrediction).length / data.count } : {}),
    ...(simRecords ? { agreementWithSim: rows.filter((r) => r.prediction === r.simPrediction).length / data.count } : {}),
    ...(floatPred ? { maxLogitErrorVsFloat: Math.max(...rows.map((r) => r.maxLogitErrorVsFloat ?? 0)) } : {}),
    ...(simRecords ? { maxLogitErrorVsSim: Math.max(...rows.map((r) => r.maxLogitErrorVsSim ?? 0)) } : {}),
    outsideRange:
      ranges?.map((r, i) => ({
        layer: circuit.report.activations[i]!.layer,
        B: r.B,
        outside: r.outside,
        total: r.total,
        absMax: r.absMax,
      })) ?? null,
    setupMs: run.setup,
    timingMedianMs: timing,
    totalMedianMs: totalMs,
    throughput: throughputTiming(circuit, records),
  };
}

type RunSummary = ReturnType<typeof runSummary>;

/** The text report: setup, the first 20 results, accuracy and agreement, ranges, timing. */
function runReport(
  circuit: Circuit,
  data: RunInputs,
  backend: RunFlags['backend'],
  run: BackendRun,
  rows: RunRow[],
  summary: RunSummary & { floatModelNote: string },
  ranges: OutsideRange | null,
): string[] {
  const lines: string[] = [];
  lines.push(
    `${circuit.name}: ${data.count} input(s) on the ${backend} backend (N=${circuit.params.polyModulusDegree}, depth ${circuit.report.depth})`,
  );
  for (const s of run.setup) lines.push(`  setup ${s.name}: ${s.ms.toFixed(0)} ms`);
  lines.push(...resultTable(rows, run.simRecords !== null), '');
  lines.push(...agreementLines(summary));
  if (ranges) {
    for (const [i, r] of ranges.entries()) {
      lines.push(
        `activation layers[${circuit.report.activations[i]!.layer}]: ${r.outside}/${r.total} inputs outside [-B, B] (B=${r.B.toPrecision(4)}, max |x| ${r.absMax.toPrecision(4)})` +
          (r.outside > 0 ? '  ← the polynomial is not accurate there' : ''),
      );
    }
  }
  lines.push(`${summary.floatModelNote}${ranges ? '' : ' (and to count inputs outside [-B, B])'}`);
  lines.push('', ...timingLines(summary));
  return lines;
}

function timingLines(summary: RunSummary): string[] {
  const t = summary.throughput;
  if (!t) {
    const stages = summary.timingMedianMs.map((x) => `${x.name} ${x.medianMs.toFixed(1)}`).join(', ');
    return [`timing per inference (median ms): ${stages}; total ${summary.totalMedianMs.toFixed(1)}`];
  }
  return [
    `timing per batch of ${t.slots} slots (median of ${t.batches}): ${(t.perBatchMs / 1000).toFixed(2)} s (predicted ${(t.predictedPerBatchMs / 1000).toFixed(2)} s)`,
    `  per filled slot (${t.filled} input(s)): ${t.perFilledSlotMs.toFixed(1)} ms; per slot of a full batch: ${t.perSlotOfFullBatchMs.toFixed(2)} ms (predicted ${t.predictedPerSlotMs.toFixed(2)} ms)`,
  ];
}

/** The first 20 results as a table (after an empty line). */
function resultTable(rows: RunRow[], withSim: boolean): string[] {
  const show = rows.slice(0, 20);
  const lines = ['', ' input  label  pann  float  |Δlogit| vs float' + (withSim ? '  sim  |Δlogit| vs sim' : '')];
  show.forEach((r, n) => {
    lines.push(
      `${String(r.index ?? n).padStart(6)}  ${String(r.label ?? '-').padStart(5)}  ${String(r.prediction).padStart(4)}  ${String(r.floatPrediction ?? '-').padStart(5)}  ${(r.maxLogitErrorVsFloat ?? NaN).toExponential(2).padStart(17)}` +
        (withSim ? `  ${String(r.simPrediction).padStart(3)}  ${r.maxLogitErrorVsSim!.toExponential(2).padStart(15)}` : ''),
    );
  });
  if (rows.length > show.length) lines.push(`  … ${rows.length - show.length} more (use --json for all)`);
  return lines;
}

function agreementLines(summary: RunSummary): string[] {
  const lines: string[] = [];
  if (summary.accuracy !== undefined)
    lines.push(
      `accuracy: ${(100 * summary.accuracy).toFixed(2)}%` +
        (summary.floatAccuracy !== undefined ? ` (float ${(100 * summary.floatAccuracy).toFixed(2)}%)` : ''),
    );
  if (summary.agreementWithFloat !== undefined)
    lines.push(
      `agreement with float predictions: ${(100 * summary.agreementWithFloat).toFixed(2)}%, max logit error ${summary.maxLogitErrorVsFloat!.toExponential(2)}`,
    );
  if (summary.agreementWithSim !== undefined)
    lines.push(
      `agreement with sim predictions: ${(100 * summary.agreementWithSim).toFixed(2)}%, max logit error vs sim ${summary.maxLogitErrorVsSim!.toExponential(2)}`,
    );
  return lines;
}
