/**
 * `pann compile <model> --precision k --out circuits/x.json`: a trained network (pann JSON or ONNX) becomes a CKKS
 * circuit; prints the plan (depth per layer, N, modulus chain, op counts, rotation keys, sizes, latency).
 */
import { dirname, relative, resolve, sep } from 'node:path';
import { Command, Option } from 'commander';
import type { Circuit } from '../circuit/index.js';
import { saveCircuit } from '../circuit/index.js';
import type { ApproximationMethod } from '../compiler/compile.js';
import { fitterProvider } from '../compiler/polynomialise.js';
import { compile, DEFAULT_NOISE_CHECK_INPUTS } from '../pipeline.js';
import { DEFAULT_MASK_BITS, parseLink, type RefreshAt, type RefreshOptions } from '../compiler/compile.js';
import { InputError } from '../errors.js';
import { headDataset } from '../nn/dataset.js';
import type { Model } from '../nn/model.js';
import { shapeSize } from '../nn/model.js';
import { loadModelOrOnnx } from './load-model.js';
import { checkOutputPath } from '../files.js';
import { action, intOption, numberOption, PRECISION_RANGE_TEXT, precisionOption, printJson, ProgressBar, stepReporter } from './common.js';
import { readInputsFile } from './predict.js';
import { isBuiltIn } from '../nn/data-source.js';
import { addDataOptions, DATA_HELP, type DataFlags, dataPartFromFlags, dataSpecFromFlags, withModelDataset } from './data-options.js';

export interface CompileFlags extends DataFlags {
  precision: number[];
  activationMethod: ApproximationMethod;
  /** Composite stand-ins: no sign stage deeper than this (--composite-stage-depth). */
  compositeStageDepth?: number;
  calibration: number;
  calibrationInput?: string;
  rangeRule: 'max' | 'percentile';
  margin: number;
  percentile: number;
  scaleBits?: number;
  weightNegative?: number;
  ring?: number[];
  mode?: 'latency' | 'throughput';
  rotationKeys?: 'exact' | 'powers-of-two';
  /** Activation layers to refresh before (client-aided refresh rounds). */
  refreshBefore?: RefreshAt[];
  /** Most refresh rounds the placement search may use (0 = one chain). */
  maxRounds?: number;
  maskBits?: number;
  /** The link the placement prices transfers at (`local`, `100mbit`, `1gbit,20ms`). */
  link?: string;
  /** false: no relayout at refresh rounds (--no-relayout). */
  relayout?: boolean;
  /** Calibration inputs the noise check simulates; 0 skips it (--noise-check off). */
  noiseCheck: number;
  out?: string;
  json?: boolean;
  quiet?: boolean;
}

/** `pann compile`'s defaults: the options' defaults, and what the demo and `pann tune --out` compile with. */
export const COMPILE_DEFAULTS = {
  activationMethod: 'auto',
  calibration: 1000,
  rangeRule: 'max',
  margin: 1.1,
  percentile: 99.9,
  noiseCheck: DEFAULT_NOISE_CHECK_INPUTS,
} as const satisfies Partial<CompileFlags>;

/** Calibration inputs: a user's file, or the first N samples of the train part of the data (default: MNIST's). */
export function calibrationFor(
  model: Model,
  given: Pick<CompileFlags, 'calibration' | 'calibrationInput'> & DataFlags,
): {
  inputs: Float64Array;
  count: number;
  label: string;
} {
  const size = shapeSize(model.inputShape);
  const flags = given.calibrationInput ? given : withModelDataset(given, model.metadata);
  const spec = dataSpecFromFlags(flags);
  if (flags.calibrationInput) {
    if (spec.source.kind !== 'mnist')
      throw new InputError('give either --calibration-input or a dataset (--dataset, --data, --idx, --csv), not both');
    const inputs = readInputsFile(flags.calibrationInput, size);
    return { inputs, count: inputs.length / size, label: flags.calibrationInput };
  }
  if (spec.source.kind === 'mnist' && size !== 784) {
    throw new InputError(
      `model ${model.name} takes ${size} inputs, not an MNIST digit: give --calibration-input inputs.json (a JSON array of input vectors) or a dataset`,
    );
  }
  const ds = headDataset(dataPartFromFlags(flags, 'train', model.inputShape), flags.calibration);
  return { inputs: ds.inputs, count: ds.count, label: isBuiltIn(spec) ? `${spec.source.kind} train[0:${ds.count}]` : ds.name };
}

/** Compile with the CLI's flags (shared by compile, run and the demo). */
export function compileWithFlags(
  model: Model,
  flags: CompileFlags,
  onProgress?: (s: string, done?: number, total?: number) => void,
): Circuit {
  const provider = fitterProvider(flags.weightNegative ? { weight: { negative: flags.weightNegative, positive: 1 } } : {});
  return compile(model, {
    noiseCheck: flags.noiseCheck > 0 ? { inputs: flags.noiseCheck } : false,
    refresh: refreshOptionsOf(flags),
    precisionBits: flags.precision.length === 1 ? flags.precision[0]! : flags.precision,
    method: flags.activationMethod,
    ...(flags.compositeStageDepth !== undefined ? { compositeStageDepth: flags.compositeStageDepth } : {}),
    calibration: calibrationFor(model, flags),
    range: { rule: flags.rangeRule, margin: flags.margin, percentile: flags.percentile },
    ...(flags.scaleBits !== undefined ? { scaleBits: flags.scaleBits } : {}),
    ...(flags.ring ? { ringDimensions: flags.ring } : {}),
    ...(flags.mode ? { mode: flags.mode } : {}),
    ...(flags.rotationKeys ? { rotationKeys: flags.rotationKeys } : {}),
    provider,
    ...(onProgress ? { onProgress } : {}),
  });
}

/** The refresh options the flags ask for: listed points, or the search under --max-rounds, at --link. */
export function refreshOptionsOf(
  flags: Pick<CompileFlags, 'refreshBefore' | 'maxRounds' | 'maskBits' | 'link' | 'relayout'>,
): RefreshOptions {
  if (flags.refreshBefore && flags.maxRounds !== undefined) throw new InputError('give --refresh-before or --max-rounds, not both');
  return {
    ...(flags.refreshBefore ? { before: flags.refreshBefore } : {}),
    ...(flags.maxRounds !== undefined ? { maxRounds: flags.maxRounds } : {}),
    ...(flags.maskBits !== undefined ? { maskBits: flags.maskBits } : {}),
    ...(flags.link !== undefined ? { link: parseLink(flags.link) } : {}),
    ...(flags.relayout === false ? { relayout: false } : {}),
  };
}

function fmtBytes(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} kB`;
  return `${n} B`;
}

/** Human-readable plan summary. */
export function formatReport(c: Circuit): string {
  const r = c.report;
  const lines: string[] = [];
  lines.push(
    `circuit ${c.name} (model ${r.model}, ${r.mode} mode${r.mode === 'throughput' ? `: ${r.batchSize} inputs per evaluation, one per slot` : ''})`,
  );
  lines.push(
    `CKKS: N=${r.ringDimension} (${r.slots} slots), modulus [${r.coeffModulusBits.join(', ')}] = ${r.totalModulusBits}/${r.maxModulusBits} bits (128-bit security), scale 2^${r.scaleBits}, depth ${r.depth}`,
  );
  lines.push(...refreshLines(c));
  lines.push('', 'stage                         depth  ct×ct  pt×ct  rot  rescale  predicted ms');
  c.stages.forEach((s, i) => {
    const oc = r.opCountsPerStage[i]!;
    const ms = r.predicted.latencyMsPerStage.find((x) => x.name === s.name)?.ms ?? 0;
    lines.push(
      `${s.name.padEnd(30)}${String(s.levelIn - s.levelOut).padStart(5)}${String(oc.ctMultiplications).padStart(7)}${String(oc.plainMultiplications).padStart(7)}${String(oc.rotations).padStart(5)}${String(oc.rescales).padStart(9)}${ms.toFixed(1).padStart(14)}`,
    );
  });
  const t = r.opCounts;
  lines.push(
    `${'total'.padEnd(30)}${String(r.depth).padStart(5)}${String(t.ctMultiplications).padStart(7)}${String(t.plainMultiplications).padStart(7)}${String(t.rotations).padStart(5)}${String(t.rescales).padStart(9)}${r.predicted.latencyMs.toFixed(1).padStart(14)}  (incl. encrypt+decrypt)`,
  );
  const split = r.predicted.split;
  if (split) {
    lines.push(
      `predicted latency ${r.predicted.latencyMs.toFixed(0)} ms = server ${split.serverMs.toFixed(0)} + client ${split.clientMs.toFixed(0)} + ` +
        `link ${split.linkMs.toFixed(0)} (${split.link}: ${fmtBytes(split.bytesUp)} up, ${fmtBytes(split.bytesDown)} down)`,
    );
  }
  if (r.mode === 'throughput') {
    const perInput = r.predicted.latencyMs / r.batchSize;
    lines.push(
      `(the times are per batch of ${r.batchSize}: ${perInput.toFixed(2)} ms per input, ${(1000 / perInput).toFixed(1)} inputs/s on one thread; ` +
        '`pann run --backend seal --workers n` runs one batch per worker thread)',
    );
  }
  lines.push('', 'activations:');
  for (const a of r.activations) {
    lines.push(
      `  layers[${a.layer}] ${a.activation}: B=${a.B.toPrecision(4)}, ${a.method} degree ${a.degree.join('∘')}, depth ${a.depth}, ` +
        `max error ${Number.isFinite(a.maxError) ? a.maxError.toExponential(2) : 'n/a'} (2^${Number.isFinite(a.log2Error) ? a.log2Error.toFixed(2) : '?'}·B), ${a.source}`,
    );
  }
  lines.push('', `rotation keys (${r.rotationSteps.length} steps): ${r.rotationSteps.join(', ')}`);
  lines.push(
    `sizes: ciphertext ${fmtBytes(r.predicted.ciphertextBytes)} (seeded ${fmtBytes(r.predicted.seededCiphertextBytes)}), ` +
      `result ${fmtBytes(r.predicted.outputCiphertextBytes)}; keys to upload ${fmtBytes(r.predicted.evaluationKeyUploadBytes)} ` +
      `(relin ${fmtBytes(r.predicted.relinKeyBytes)} + Galois ${fmtBytes(r.predicted.galoisKeyBytes)}, seeded)`,
  );
  lines.push(`calibration: ${r.calibration.count} inputs (${r.calibration.split}), B = ${r.calibration.marginRule}`);
  if (r.noise) {
    lines.push(
      `noise (sim, ${r.noise.inputs} calibration inputs): logit error ${r.noise.rmsLogitError.toExponential(2)} RMS, ${r.noise.maxLogitError.toExponential(2)} max; ` +
        `predictions changed ${r.noise.flips}/${r.noise.inputs}, expected ${(100 * r.noise.expectedFlipRate).toPrecision(2)}% (median top-two gap ${r.noise.medianTopTwoGap.toPrecision(3)})`,
    );
  }
  for (const n of r.notes) lines.push(`note: ${n}`);
  return lines.join('\n');
}

/** The refresh rounds, bytes per round, and the placements the search compared. */
function refreshLines(c: Circuit): string[] {
  const { refresh: rf, refreshSearch: search } = c.report;
  const lines: string[] = [];
  if (rf) {
    lines.push(
      `refresh: ${rf.rounds} round(s) at ${(rf.points ?? rf.beforeLayers.map(String)).join(', ')} (n: before activation layer n; n:s: after its s-th part, a composite stage or the whole activation; masks hide each slot to 2^-${rf.maskBits}); ` +
        `segments of depth ${rf.segmentDepths.join(', ')}: the chain holds ${c.params.maxLevel} levels (docs/refresh.md)`,
    );
    for (const [n, q] of (rf.perRound ?? []).entries()) {
      lines.push(
        `  round ${n + 1}: ${q.ciphertexts} ciphertext(s), ${fmtBytes(q.maskedBytes)} masked to the key holder, ${fmtBytes(q.freshBytes)} fresh back; ` +
          `key holder ${q.clientMs.toFixed(0)} ms${q.relayoutFor ? `; relaid for ${q.relayoutFor}` : ''}`,
      );
    }
  }
  if (search) {
    const shown = search.considered.map((k) => {
      const where = `${k.method !== undefined ? `${k.method} ` : ''}${k.points.length === 0 ? 'one chain' : `at ${k.points.join(', ')}`}`;
      if (k.latencyMs === undefined) return `${where}: does not fit`;
      return `${where}: N=${k.ringDimension}, ${k.levels} levels, ${k.latencyMs.toFixed(0)} ms${k.rejected !== undefined ? ' (too noisy)' : ''}`;
    });
    lines.push(`placement (${search.link}${search.maxRounds !== null ? `, at most ${search.maxRounds} rounds` : ''}): ${shown.join('; ')}`);
  }
  return lines;
}

/** `--refresh-before n` or `n:s`. */
function refreshAtOption(v: string): RefreshAt {
  const m = /^(\d+)(?::(\d+))?$/.exec(v.trim());
  if (!m)
    throw new InputError(`--refresh-before takes n (before activation layer n) or n:s (inside it, after composite stage s), got '${v}'`);
  const at = { layer: Number(m[1]), stage: m[2] === undefined ? 0 : Number(m[2]) };
  if (at.layer > 1000 || at.stage > 100) throw new InputError(`--refresh-before ${v}: out of range`);
  return at;
}

function noiseCheckOption(v: string): number {
  return v === 'off' ? 0 : intOption('--noise-check', 1, 8000)(v);
}

/** The refresh-round options (docs/refresh.md). */
function addRefreshOptions(cmd: Command): Command {
  return cmd
    .option(
      '--refresh-before <layer...>',
      'client-aided refresh rounds exactly here, no search: n = right before activation layer n (0 = the first), n:s = after its s-th part (a composite stage; the last part = right after the activation); the key holder re-encrypts masked values, so each segment needs only its own depth (docs/refresh.md)',
      (v: string, prev: RefreshAt[] | undefined) => [...(prev ?? []), refreshAtOption(v)],
    )
    .option(
      '--max-rounds <n>',
      'at most n client-aided refresh rounds; without --refresh-before the compiler places them where the predicted latency (server + key holder + link) is lowest; 0 = one modulus chain, no rounds (default: up to one per activation layer)',
      intOption('--max-rounds', 0, 1000),
    )
    .option(
      '--link <speed>',
      'the link to the key holder that refresh placement prices transfers at: local (no transfer time), or e.g. 100mbit, 1gbit, 512kbit, with a round trip: 100mbit,20ms (default 100mbit)',
    )
    .option(
      '--no-relayout',
      'keep every value in its slot at a refresh round (by default the key holder moves the masked values to the layout the next linear layer is cheapest on: fewer rotations and Galois keys)',
    )
    .option(
      '--mask-bits <λ>',
      `refresh masks hide each slot to within 2^-λ of uniform (default ${DEFAULT_MASK_BITS})`,
      intOption('--mask-bits', 1, 50),
    );
}

/** Options shared by compile, run and the demo. */
export function addCompileOptions(cmd: Command): Command {
  return addRefreshOptions(cmd)
    .option(
      '-k, --precision <k...>',
      "precision k: each activation's max error ≤ B·2^-k on its calibrated range [-B, B], relative to B as in pann fit --precision k --range -B,B (one value, or one per activation layer)",
      (v: string, prev: number[] | undefined) => [...(prev ?? []), precisionOption('--precision')(v)],
    )
    .addOption(
      new Option('-m, --activation-method <method>', 'how activations are approximated (auto = cheapest by depth, then multiplications)')
        .choices(['auto', 'remez', 'chebyshev', 'composite'])
        .default(COMPILE_DEFAULTS.activationMethod),
    )
    .option(
      '--composite-stage-depth <d>',
      'composite ReLU stand-ins with no sign stage deeper than d (degree ≤ 2^d − 1): more, shallower stages, so refresh rounds between them leave short segments on a small ring (with -m auto the placement search already compares d = 3)',
      intOption('--composite-stage-depth', 2, 10),
    )
    .option(
      '--calibration <n>',
      'number of MNIST training digits used to calibrate ranges',
      intOption('--calibration', 1, 8000),
      COMPILE_DEFAULTS.calibration,
    )
    .option('--calibration-input <file>', 'calibrate on your own inputs (a JSON array of flat input vectors)')
    .addOption(
      new Option('--range-rule <rule>', 'how B is chosen from calibration')
        .choices(['max', 'percentile'])
        .default(COMPILE_DEFAULTS.rangeRule),
    )
    .option('--margin <x>', 'B = margin × (max or percentile of |x|)', numberOption('--margin', 1, 100), COMPILE_DEFAULTS.margin)
    .option(
      '--percentile <p>',
      'percentile of |x| for --range-rule percentile',
      numberOption('--percentile', 1e-9, 100),
      COMPILE_DEFAULTS.percentile,
    )
    .option(
      '--scale-bits <b>',
      'CKKS scale bits (default: the smallest ring that holds the depth at k + 10 bits (at least 20), then the largest scale that ring holds, up to 40; a larger value can force a larger ring)',
      intOption('--scale-bits', 14, 60),
    )
    .option(
      '--weight-negative <w>',
      'asymmetric Remez: errors on negative inputs count w times (tighter on x<0)',
      numberOption('--weight-negative', 1e-6, 1e6),
    )
    .addOption(
      new Option(
        '--mode <mode>',
        'latency: one input per ciphertext (rotations); throughput: one ciphertext per input value, N/2 inputs per evaluation (no rotations)',
      )
        .choices(['latency', 'throughput'])
        .default('latency'),
    )
    .addOption(
      new Option(
        '--rotation-keys <set>',
        "exact: a Galois key per step used (fastest); powers-of-two: only ±2^i keys (smallest upload, more rotations); default: exact, unless the keys would not fit SEAL's memory (then the most used steps keep their key, the rest are sums of ±2^i)",
      ).choices(['exact', 'powers-of-two']),
    )
    .option(
      '--noise-check <n>',
      `simulate n calibration inputs with and without CKKS noise and report how the logits move (default ${DEFAULT_NOISE_CHECK_INPUTS}; off skips it)`,
      noiseCheckOption,
      COMPILE_DEFAULTS.noiseCheck,
    )
    .option('--ring <N...>', 'ring dimensions to consider (default 4096 8192 16384 32768)', (v: string, prev: number[] | undefined) => [
      ...(prev ?? []),
      intOption('--ring', 1024, 32768)(v),
    ]);
}

export function registerCompile(program: Command): void {
  const cmd = program
    .command('compile')
    .description('compile a trained network (pann JSON or ONNX) into a CKKS circuit and print the plan')
    .argument('<model>', 'model file: pann-model JSON, or an ONNX file (imported on the way)');
  addDataOptions(addCompileOptions(cmd))
    .option('-o, --out <file>', 'write the circuit (pann-circuit JSON) here')
    .option('--json', 'print the compile report as JSON on stdout')
    .addHelpText(
      'after',
      `
Precision k is relative to each activation's range: the polynomial's max error on [-B, B] is at most B·2^-k.
B comes from calibration (max |x| × margin). The compiler picks the smallest ring dimension N and modulus chain
that hold the circuit's depth at 128-bit security, and exactly the rotation keys the packed layers need.
Calibration takes the first --calibration samples of the train part of the data (or --calibration-input).
${DATA_HELP}

Examples:
  $ pann compile models/mnist-cnn-relu.json --precision 6 --out circuits/mnist-cnn-relu-k6.json
  $ pann compile models/mnist-cnn-ulu.json -k 5 -m remez --weight-negative 4 --json
  $ pann compile net.onnx -k 7 --calibration-input calib.json --out circuits/net.json
  $ pann compile /tmp/mine.json -k 6 --data my-digits/ --calibration 500
  $ pann compile models/mnist-cnn1-relu-poly6.json -k 6 --mode throughput --out circuits/cnn1-batch.json`,
    )
    .option('-q, --quiet', 'no progress output')
    .action(action('compile', (file: string, flags: CompileFlags) => runCompile(file, flags)));
}

/** `pann compile`: check the output path, compile with progress, record where the model is, save, report. */
function runCompile(file: string, flags: CompileFlags): void {
  if (!flags.precision) throw new InputError(`--precision <k> is required (an integer ${PRECISION_RANGE_TEXT})`);
  const out = flags.out ? checkOutputPath(flags.out, { label: '--out', extensions: ['.json'] }) : null;
  const model = loadModelOrOnnx(file);
  const circuit = compileWithProgress(model, flags);
  if (out) saveCompiled(circuit, out, file);
  if (flags.json) printJson({ ...circuit.report, out: flags.out ?? null });
  else {
    process.stdout.write(`${formatReport(circuit)}\n`);
    if (flags.out) process.stdout.write(`wrote ${flags.out}\n`);
  }
}

/** Save a circuit, recording where its model file is relative to the circuit's folder (pann run finds it there). */
export function saveCompiled(circuit: Circuit, out: string, modelFile: string): void {
  if (circuit.source)
    circuit.source.model.path = relative(dirname(resolve(out)), resolve(modelFile))
      .split(sep)
      .join('/');
  saveCircuit(out, circuit);
}

/** compileWithFlags with its passes on stderr (a bar for the noise check), nothing with --json or --quiet. */
export function compileWithProgress(model: Model, flags: CompileFlags): Circuit {
  const quiet = flags.quiet === true || flags.json === true;
  const steps = stepReporter('compile', quiet);
  const noise = { bar: null as ProgressBar | null };
  try {
    return compileWithFlags(model, flags, (stage, done, total) => {
      if (stage !== 'noise') return steps.step(stage);
      if (done === undefined || total === undefined) return steps.end(); // the bar takes over
      noise.bar ??= new ProgressBar('compile: noise check (sim, exact then noisy)', { quiet });
      noise.bar.update(done, total);
    });
  } finally {
    noise.bar?.done();
    steps.end();
  }
}
