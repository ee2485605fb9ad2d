/**
 * `pann study [grid.json] --out dir`: sweep a precision grid (a grid file, command-line axes, or both: flags
 * replace the file's axes), measure every cell in the sim backend (worker threads, cached per cell: an
 * interrupted run resumes), SEAL-spot-check the chosen cells, and write results.json, results.csv, report.md and
 * the plots.
 */
import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { InputError, errorMessage } from '../errors.js';
import { GRID_FORMAT, GRID_VERSION, type StudyGrid, gridFromJSON } from '../study/grid.js';
import { studyRunFromJSON, writeStudyOutputs } from '../study/report.js';
import { type StudyProgress, type StudyRun, runStudy } from '../study/study.js';
import { type StudySummary, summarizeStudy } from '../study/summary.js';
import { action, intOption, numberOption, printJson, ProgressBar } from './common.js';
import { addDataOptions, DATA_HELP, type DataFlags, dataSpecFromFlags } from './data-options.js';
import { checkOutputFolder } from '../files.js';

interface StudyFlags extends DataFlags {
  models?: string[];
  precision?: string;
  methods?: string[];
  remedies?: string[];
  rangeRule?: 'max' | 'percentile';
  margin?: number;
  percentile?: number;
  scaleBits?: string[];
  split?: 'test' | 'validation';
  count?: number;
  calibration?: number;
  noiseSeed?: number;
  weightNegative?: number;
  finetuneEpochs?: number;
  maxSimRing?: number;
  maxSimLatency?: number;
  maxSimDegree?: number;
  sealSample?: number;
  sealCells?: 'none' | 'all' | 'front';
  out: string;
  cache: string | false;
  workers?: number;
  budget: number;
  fromResults?: string;
  json?: boolean;
  quiet?: boolean;
}

const collect = (v: string, prev: string[] | undefined) => [...(prev ?? []), ...v.split(',').filter(Boolean)];

/** "3..14", "3-14" or "3,5,7" → the grid's precisions field. */
function parsePrecisionFlag(v: string): unknown {
  const m = /^\s*(\d+)\s*(?:\.\.|-)\s*(\d+)\s*$/.exec(v);
  if (m) return { from: Number(m[1]), to: Number(m[2]) };
  return v.split(',').map((x) => (x.trim() === '' ? NaN : Number(x)));
}

/** The grid: the file (if any) with the command line's axes and settings on top; validated as one object. */
function gridFor(file: string | undefined, f: StudyFlags): { raw: Record<string, unknown>; source: string; baseDir: string } {
  let raw: Record<string, unknown> = { format: GRID_FORMAT, version: GRID_VERSION };
  let source = 'command line';
  let baseDir = process.cwd();
  if (file) {
    try {
      raw = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    } catch (err) {
      throw new InputError(`cannot read grid ${file}: ${errorMessage(err)}`, { cause: err });
    }
    source = file;
    baseDir = dirname(resolve(file));
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { raw, source, baseDir };
  const out: Record<string, unknown> = { ...raw };
  // flags name files relative to where the command runs; the grid holds them relative to its directory
  if (f.models) out.models = f.models.map((m) => relative(baseDir, resolve(m)) || m);
  if (f.precision !== undefined) out.precisions = parsePrecisionFlag(f.precision);
  if (f.methods) out.methods = f.methods;
  if (f.remedies) out.remedies = f.remedies;
  if (f.rangeRule || f.margin !== undefined || f.percentile !== undefined) {
    out.ranges = [{ rule: f.rangeRule ?? 'max', margin: f.margin ?? 1.1, percentile: f.percentile ?? 99.9 }];
  }
  if (f.scaleBits) out.scaleBits = f.scaleBits.map((s) => (s === 'auto' ? s : Number(s)));
  const settings = { ...((raw.settings as Record<string, unknown> | undefined) ?? {}) };
  const set = (k: string, v: unknown) => v !== undefined && (settings[k] = v);
  set('split', f.split);
  set('count', f.count);
  set('calibration', f.calibration);
  set('noiseSeed', f.noiseSeed);
  set('asymmetricWeight', f.weightNegative);
  set('maxSimulatedRing', f.maxSimRing);
  set('maxSimulatedLatencyMs', f.maxSimLatency);
  set('maxSimulatedDegree', f.maxSimDegree);
  if (f.finetuneEpochs !== undefined) settings.finetune = { ...(settings.finetune ?? {}), epochs: f.finetuneEpochs };
  if (f.sealSample !== undefined || f.sealCells !== undefined) {
    const prev = (settings.seal as Record<string, unknown> | undefined) ?? {};
    settings.seal = {
      ...prev,
      ...(f.sealSample !== undefined ? { sample: f.sealSample } : {}),
      cells: f.sealCells ?? prev.cells ?? (f.sealSample ? 'front' : 'none'),
    };
  }
  if (Object.keys(settings).length) out.settings = settings;
  return { raw: out, source, baseDir };
}

function progressLine(p: StudyProgress): string {
  const eta = p.etaMs === null ? '' : ` eta ${Math.round(p.etaMs / 1000)}s`;
  return `${p.phase}: ${p.done}/${p.total} cells (${p.cached} cached, ${p.failed} failed)${eta}`;
}

export function registerStudy(program: Command): void {
  addDataOptions(program.command('study'))
    .description('sweep a precision grid: accuracy loss, agreement, out-of-range inputs and cost per cell, plus SEAL spot checks')
    .argument('[grid]', 'grid file (JSON, format "pann-study-grid"); command-line axes replace its axes')
    .option('--models <files...>', 'model files (comma or space separated); technique "baseline"', collect)
    .option('-k, --precision <list>', "precisions k: '3..14' or '3,5,7'")
    .option('-m, --methods <list...>', 'approximation methods: chebyshev, remez, composite, auto', collect)
    .option('--remedies <list...>', 'per-cell remedies: none, finetune, asymmetric', collect)
    .addOption(new Option('--range-rule <rule>', 'how B is chosen from calibration').choices(['max', 'percentile']))
    .option('--margin <x>', 'B = margin × (max or percentile of |x|)', numberOption('--margin', 1, 100))
    .option('--percentile <p>', 'percentile for --range-rule percentile', numberOption('--percentile', 1e-9, 100))
    .option('--scale-bits <list...>', "CKKS scale bits: 'auto' or integers", collect)
    .addOption(new Option('--split <split>', 'split the accuracy is measured on').choices(['test', 'validation']))
    .option('--count <n>', 'digits of that split (default: all 1000)', intOption('--count', 1, 1000))
    .option('--calibration <n>', 'calibration digits (first n of the train split)', intOption('--calibration', 1, 8000))
    .option('--noise-seed <n>', "seed of the sim backend's noise", intOption('--noise-seed', 0, 2 ** 31 - 1))
    .option(
      '--weight-negative <w>',
      'asymmetric remedy: errors on negative inputs count w times',
      numberOption('--weight-negative', 1e-6, 1e6),
    )
    .option('--finetune-epochs <n>', 'finetune remedy: epochs over the train split', intOption('--finetune-epochs', 1, 100))
    .addOption(
      new Option('--max-sim-ring <N>', 'cells whose circuit needs a larger ring are compiled and costed, not simulated')
        .choices(['4096', '8192', '16384', '32768'])
        .argParser(Number),
    )
    .option(
      '--max-sim-latency <ms>',
      'cells predicted slower than this per encrypted digit are compiled and costed, not simulated',
      numberOption('--max-sim-latency', 1, 1e9),
    )
    .option(
      '--max-sim-degree <d>',
      'cells with a polynomial stage above this degree are compiled and costed, not simulated',
      intOption('--max-sim-degree', 1, 100000),
    )
    .option('--seal-sample <n>', 'SEAL spot check: digits per checked cell (0 = none)', intOption('--seal-sample', 0, 1000))
    .addOption(
      new Option('--seal-cells <which>', 'cells to spot-check in SEAL (front = Pareto front per network)').choices([
        'none',
        'all',
        'front',
      ]),
    )
    .option('-o, --out <dir>', 'output directory', 'study-out')
    .option('--cache <dir>', 'per-cell result cache (resume)', '.pann-cache/study')
    .option('--no-cache', 'measure every cell again, store nothing')
    .option('--workers <n>', 'worker threads (0 = this thread; default: the number of cores)', intOption('--workers', 0, 256))
    .option('--budget <points>', 'accuracy-loss budget the report answers for', numberOption('--budget', 0, 100), 0.5)
    .option(
      '--from-results <file>',
      'measure nothing: write the report, CSV and plots again from a results.json (e.g. with another --budget)',
    )
    .option('--json', 'print the summary as JSON on stdout')
    .option('-q, --quiet', 'no progress output')
    .addHelpText(
      'after',
      `
A cell is one (model, precision k, method, remedy, range rule, scale bits). Each is compiled, run on the whole
test split through the sim backend with the CKKS noise model, and compared with the float network. Results are
cached per cell (key: model file hash, settings, code version): rerun the same command to resume.
With your own data, --split and --count pick the first n samples of that part of its split, --calibration the
first n of its train part, and the finetune remedy trains on its train part.
${DATA_HELP}

Examples:
  $ pann study docs/study/grid.json --out docs/study
  $ pann study --from-results docs/study/results.json --budget 1 --out /tmp/budget1
  $ pann study --models models/mnist-cnn-relu.json -k 3..10 -m remez,chebyshev,composite --out /tmp/relu
  $ pann study --models models/mnist-cnn-ulu.json -k 4..8 --remedies none,finetune,asymmetric -m remez --seal-sample 5`,
    )
    .action(action('study', studyCommand));
}

/** `pann study`: measure the grid (or re-render a results file), write the outputs and print the summary. */
async function studyCommand(file: string | undefined, flags: StudyFlags): Promise<void> {
  // the report folder (and the cache's) are checked before the first cell is measured
  checkOutputFolder(flags.out, '--out');
  if (flags.fromResults) return rerenderResults(file, flags.fromResults, flags);
  if (flags.cache !== false) checkOutputFolder(flags.cache, '--cache');
  const { raw, source, baseDir } = gridFor(file, flags);
  const grid = gridFromJSON(raw, source);
  const run = await runInterruptibly(grid, baseDir, flags);
  if (run.interrupted) {
    process.stderr.write(
      `study: interrupted after ${run.cells.length} of the grid's cells; they are cached — rerun the same command to resume\n`,
    );
    process.exitCode = 130;
    return;
  }
  const command = ['pann', 'study', ...process.argv.slice(3)].join(' ');
  const files = writeStudyOutputs(run, flags.out, { command, budgetPoints: flags.budget });
  const summary = summarizeStudy(run.cells, flags.budget);
  if (flags.json) printJson(summaryJson(run, summary, files, flags.out));
  else process.stdout.write(`${summaryLines(run, summary, files, flags.budget).join('\n')}\n`);
}

/** --from-results: write the report, CSV and plots again from a results.json, measuring nothing. */
function rerenderResults(file: string | undefined, results: string, flags: StudyFlags): void {
  if (file) throw new InputError('give either a grid or --from-results, not both');
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(results, 'utf8'));
  } catch (err) {
    throw new InputError(`cannot read results ${results}: ${errorMessage(err)}`, { cause: err });
  }
  const previous = studyRunFromJSON(raw, results);
  const files = writeStudyOutputs(previous, flags.out, { budgetPoints: flags.budget });
  process.stdout.write(`re-rendered ${previous.cells.length} cells from ${results}\nwrote ${files.join(', ')}\n`);
}

/** Run the study with a progress bar per phase; the first Ctrl-C lets the running cells finish, the second exits. */
async function runInterruptibly(grid: StudyGrid, baseDir: string, flags: StudyFlags): Promise<StudyRun> {
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write('\nstudy: interrupted; finishing the running cells (Ctrl-C again to quit now)\n');
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  const bars = new Map<string, ProgressBar>();
  try {
    return await runStudy(grid, {
      baseDir,
      cacheDir: flags.cache === false ? null : resolve(flags.cache),
      data: dataSpecFromFlags(flags),
      ...(flags.workers !== undefined ? { workers: flags.workers } : {}),
      signal: controller.signal,
      onProgress: (p) => {
        if (flags.quiet) return;
        let bar = bars.get(p.phase);
        if (!bar) bars.set(p.phase, (bar = new ProgressBar(`study ${p.phase}`)));
        bar.update(p.done, p.total, `${p.cached} cached, ${p.failed} failed`);
        if (!process.stderr.isTTY && p.cell) process.stderr.write(`${progressLine(p)} — ${p.cell.status} ${p.cell.id}\n`);
        if (p.done === p.total) bar.done(`${p.cached} cached, ${p.failed} failed`);
      },
    });
  } finally {
    process.off('SIGINT', onSigint);
  }
}

/** --json: the outputs, timing, counts and each network's answer. */
function summaryJson(run: StudyRun, summary: StudySummary, files: string[], out: string): unknown {
  return {
    out,
    files,
    timing: run.timing,
    counts: summary.counts,
    seal: summary.seal,
    networks: summary.networks.map((n) => ({
      network: n.label,
      floatAccuracy: n.floatAccuracy,
      smallestK: n.smallestK,
      best: n.best
        ? {
            id: n.best.id,
            k: n.best.cell.k,
            method: n.best.cell.method,
            lossPoints: n.best.pann!.lossPoints,
            predictedLatencyMs: n.best.cost!.predictedLatencyMs,
          }
        : null,
      savedMs: n.savedMs,
      closest: n.closest ? { id: n.closest.id, lossPoints: n.closest.pann!.lossPoints } : null,
    })),
  };
}

/** The text summary: counts and time, then each network's answer to the budget, the SEAL checks, the files. */
function summaryLines(run: StudyRun, summary: StudySummary, files: string[], budget: number): string[] {
  const lines = [
    `${run.cells.length} cells (${summary.counts.ok} measured, ${summary.counts.costed} costed only, ${summary.counts.failed} failed) in ${(run.timing.wallMs / 1000).toFixed(1)} s, ${run.timing.cached} from the cache`,
  ];
  for (const n of summary.networks) {
    if (n.best) {
      lines.push(
        `  ${n.label}: k=${n.best.cell.k} ${n.best.cell.method} keeps the loss at ${n.best.pann!.lossPoints.toFixed(1)} points ` +
          `(${(100 * n.best.pann!.accuracy).toFixed(1)}%), predicted ${n.best.cost!.predictedLatencyMs.toFixed(0)} ms` +
          (n.savedMs !== null ? `, ${n.savedMs.toFixed(0)} ms less than k=12` : ''),
      );
    } else {
      lines.push(
        `  ${n.label}: no cell within ${budget} points${n.closest ? ` (closest: ${n.closest.cell.method} k=${n.closest.cell.k}, loss ${n.closest.pann!.lossPoints.toFixed(1)})` : ''}`,
      );
    }
  }
  if (summary.seal.sample)
    lines.push(`SEAL spot checks: ${summary.seal.agreeWithSim}/${summary.seal.sample} digits agree with the simulator`);
  lines.push(`wrote ${files.join(', ')}`);
  return lines;
}
