/**
 * A study's outputs: results.json (every cell, the grid, machine and timing), results.csv (one row per cell),
 * report.md (the command that made it, the answers, per-network tables of loss and cost, SEAL spot checks,
 * failed cells, timing) and the SVG plots of plots.ts.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { CellResult } from './cell-result.js';
import { rangeLabel } from './grid.js';
import { studyPlots } from './plots.js';
import { StudyError } from '../errors.js';
import { RESULTS_FORMAT, RESULTS_VERSION, type StudyRun } from './study.js';
import { type NetworkAnswer, type StudySummary, familyKey, familyTitle, networkLabel, seriesLabel, summarizeStudy } from './summary.js';
import { writeFileAtomic } from '../files.js';

export interface ReportOptions {
  /** The command that produced the study, shown at the top of the report. */
  command?: string;
  /** Loss budget in accuracy points. @default 0.5 */
  budgetPoints?: number;
  /** The uniform high-precision baseline. @default 12 */
  baselineK?: number;
  /** Text placed after the answers (e.g. the study's discussion). @default none */
  discussion?: string;
}

const CSV_COLUMNS = [
  'id',
  'model',
  'technique',
  'remedy',
  'method',
  'k',
  'range',
  'scaleBitsRequested',
  'status',
  'floatAccuracy',
  'pannAccuracy',
  'lossPoints',
  'agreement',
  'outsideMax',
  'degrees',
  'activationMethods',
  'B',
  'depth',
  'ringDimension',
  'coeffModulusBits',
  'scaleBits',
  'rotations',
  'rotationKeys',
  'ctMultiplications',
  'plainMultiplications',
  'predictedLatencyMs',
  'sealSample',
  'sealAgreeWithSim',
  'sealAgreeWithFloat',
  'sealMaxLogitDifference',
  'sealLatencyMedianMs',
  'sealSetupMs',
  'sealError',
  'finetuneValidationBefore',
  'finetuneValidationAfter',
  'finetuneMs',
  'compileMs',
  'simMs',
  'totalMs',
  'error',
] as const;

/** A CSV cell: a scalar (numbers rounded to 6 decimals), empty for missing or non-finite values. */
type CsvValue = string | number | boolean | null | undefined;

function csvField(v: CsvValue): string {
  if (v === undefined || v === null || (typeof v === 'number' && !Number.isFinite(v))) return '';
  const s = typeof v === 'number' ? String(Math.round(v * 1e6) / 1e6) : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function csvRow(r: CellResult): string {
  const a = r.cost?.activations ?? [];
  const row: Record<(typeof CSV_COLUMNS)[number], CsvValue> = {
    id: r.id,
    model: r.cell.model.path,
    technique: r.cell.model.technique,
    remedy: r.cell.remedy,
    method: r.cell.method,
    k: r.cell.k,
    range: rangeLabel(r.cell.range),
    scaleBitsRequested: r.cell.scaleBits,
    status: r.status,
    floatAccuracy: r.float?.accuracy,
    pannAccuracy: r.pann?.accuracy,
    lossPoints: r.pann?.lossPoints,
    agreement: r.pann?.agreement,
    outsideMax: r.outside?.max,
    degrees: a.map((x) => x.degrees.join('∘')).join(' '),
    activationMethods: a.map((x) => x.method).join(' '),
    B: a.map((x) => x.B.toPrecision(4)).join(' '),
    depth: r.cost?.depth,
    ringDimension: r.cost?.ringDimension,
    coeffModulusBits: r.cost?.coeffModulusBits.join(' '),
    scaleBits: r.cost?.scaleBits,
    rotations: r.cost?.rotations,
    rotationKeys: r.cost?.rotationKeys,
    ctMultiplications: r.cost?.ctMultiplications,
    plainMultiplications: r.cost?.plainMultiplications,
    predictedLatencyMs: r.cost?.predictedLatencyMs,
    sealSample: r.seal?.sample,
    sealAgreeWithSim: r.seal?.agreeWithSim,
    sealAgreeWithFloat: r.seal?.agreeWithFloat,
    sealMaxLogitDifference: r.seal?.maxLogitDifference,
    sealLatencyMedianMs: r.seal?.latencyMs.median,
    sealSetupMs: r.seal?.setupMs,
    sealError: r.seal?.error,
    finetuneValidationBefore: r.finetune?.validationBefore,
    finetuneValidationAfter: r.finetune?.validationAfter,
    finetuneMs: r.timing.finetuneMs,
    compileMs: r.timing.compileMs,
    simMs: r.timing.simMs,
    totalMs: r.timing.totalMs,
    error: r.error ? `${r.error.stage}: ${r.error.message}` : undefined,
  };
  return CSV_COLUMNS.map((c) => csvField(row[c])).join(',');
}

/** Every cell as CSV (header + one row per cell). */
export function studyCsv(cells: readonly CellResult[]): string {
  return `${[CSV_COLUMNS.join(','), ...cells.map(csvRow)].join('\n')}\n`;
}

const pct = (x: number | undefined | null) => (x === undefined || x === null || !Number.isFinite(x) ? '—' : `${(100 * x).toFixed(1)}%`);
const ms = (x: number | undefined | null) =>
  x === undefined || x === null || !Number.isFinite(x) ? '—' : x >= 10000 ? `${(x / 1000).toFixed(1)} s` : `${x.toFixed(0)} ms`;
const pts = (x: number) => `${x >= 0 ? '' : '−'}${Math.abs(x).toFixed(1)}`;

function table(head: string[], rows: string[][]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

function settingOf(r: CellResult): string {
  const c = r.cell;
  const parts = [`k=${c.k}`, c.method === 'auto' ? `auto→${[...new Set(r.cost?.activations.map((a) => a.method))].join('/')}` : c.method];
  if (c.range.rule !== 'max' || c.range.margin !== 1.1) parts.push(rangeLabel(c.range));
  if (c.scaleBits !== 'auto') parts.push(`scale ${c.scaleBits}`);
  return parts.join(', ');
}

function answersTable(s: StudySummary): string {
  const rows = s.networks.map((n: NetworkAnswer) => {
    const b = n.best;
    const base = n.baseline;
    const baseText = base
      ? `${ms(base.cost?.predictedLatencyMs)} (${settingOf(base)}${base.status === 'costed' ? ', costed only' : base.status === 'failed' ? ', failed' : ''})`
      : '—';
    if (!b) {
      const c = n.closest;
      return [
        n.label,
        pct(n.floatAccuracy),
        `**none** within ${s.budgetPoints}${c ? `; closest ${settingOf(c)}: loss ${pts(c.pann!.lossPoints)}` : ''}`,
        '—',
        '—',
        '—',
        baseText,
        '—',
      ];
    }
    return [
      n.label,
      pct(n.floatAccuracy),
      `**${b.cell.k}** (${settingOf(b)})`,
      `${pct(b.pann!.accuracy)} (${pts(b.pann!.lossPoints)})`,
      `N=${b.cost!.ringDimension}, depth ${b.cost!.depth}, deg ${b.cost!.activations.map((a) => a.degrees.join('∘')).join(' / ')}`,
      `${ms(b.cost!.predictedLatencyMs)}${b.seal && !b.seal.error ? ` (SEAL ${ms(b.seal.latencyMs.median)})` : ''}`,
      baseText,
      n.savedMs === null ? '—' : `${ms(n.savedMs)} (${((100 * n.savedMs) / base!.cost!.predictedLatencyMs).toFixed(0)}%)`,
    ];
  });
  return table(
    [
      'network (technique, remedy)',
      'float acc',
      `cheapest setting with loss ≤ ${s.budgetPoints}`,
      'PANN acc (loss, points)',
      'circuit',
      'predicted latency',
      `k=${s.baselineK} baseline`,
      'latency saved',
    ],
    rows,
  );
}

function seriesTables(s: StudySummary): string {
  const out: string[] = [];
  const byNetwork = new Map<string, StudySummary['series']>();
  for (const se of s.series) {
    const key = networkLabel(se.cells[0]!.cell);
    byNetwork.set(key, [...(byNetwork.get(key) ?? []), se]);
  }
  for (const [label, list] of byNetwork) {
    const ks = [...new Set(list.flatMap((se) => se.cells.map((c) => c.cell.k)))].sort((a, b) => a - b);
    out.push(`### ${label}\n`);
    out.push('Accuracy loss in points (PANN accuracy) per precision k; `costed`: compiled but not simulated; `fail`: see below.\n');
    const grid = (text: (c: CellResult, se: StudySummary['series'][number]) => string) =>
      table(
        ['k', ...list.map((se) => se.label.slice(label.length).trim() || se.method)],
        ks.map((k) => [
          String(k),
          ...list.map((se) => {
            const c = se.cells.find((x) => x.cell.k === k);
            return c ? text(c, se) : '';
          }),
        ]),
      );
    out.push(
      grid((c, se) => {
        if (c.status !== 'ok') return c.status === 'failed' ? 'fail' : 'costed';
        const mark = se.smallestK === c.cell.k ? '**' : '';
        return `${mark}${pts(c.pann!.lossPoints)}${mark} (${pct(c.pann!.accuracy)})`;
      }),
    );
    out.push('\nCost per precision k: degrees per activation, depth, ring N, predicted latency.\n');
    out.push(
      grid((c) =>
        c.cost
          ? `${c.cost.activations.map((a) => a.degrees.join('∘')).join('/')}, d${c.cost.depth}, N=${c.cost.ringDimension / 1024}k, ${ms(c.cost.predictedLatencyMs)}`
          : 'fail',
      ),
    );
    out.push('');
  }
  return out.join('\n');
}

function sealTable(cells: readonly CellResult[]): string {
  const checked = cells.filter((r) => r.seal);
  if (!checked.length) return 'No SEAL spot checks in this run.\n';
  return table(
    ['cell', 'digits', 'SEAL = sim', 'SEAL = float', 'correct', 'max |logit diff|', 'SEAL latency (median)', 'predicted', 'setup'],
    checked.map((r) => {
      const q = r.seal!;
      if (q.error)
        return [
          `${networkLabel(r.cell)} ${settingOf(r)}`,
          String(q.sample),
          '—',
          '—',
          '—',
          '—',
          `error: ${q.error.slice(0, 80)}`,
          ms(r.cost?.predictedLatencyMs),
          '—',
        ];
      return [
        `${networkLabel(r.cell)} ${settingOf(r)}`,
        String(q.sample),
        `${q.agreeWithSim}/${q.sample}`,
        `${q.agreeWithFloat}/${q.sample}`,
        `${q.correct}/${q.sample}`,
        Number.isFinite(q.maxLogitDifference) ? q.maxLogitDifference.toExponential(1) : '—',
        ms(q.latencyMs.median),
        ms(r.cost?.predictedLatencyMs),
        ms(q.setupMs),
      ];
    }),
  );
}

function failureTable(cells: readonly CellResult[]): string {
  const failed = cells.filter((r) => r.status === 'failed');
  if (!failed.length) return 'No cell failed.\n';
  return table(
    ['cell', 'stage', 'error'],
    failed.map((r) => [`${seriesLabel(r.cell)} k=${r.cell.k}`, r.error!.stage, r.error!.message.replace(/\|/g, '\\|').slice(0, 400)]),
  );
}

function mean(xs: number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
}

function timingSection(run: StudyRun): string {
  const t = run.timing;
  const simulated = run.cells.filter((r) => r.status === 'ok' && r.cost);
  const rings = [...new Set(simulated.map((r) => r.cost!.ringDimension))].sort((a, b) => a - b);
  const others = run.cells.filter((r) => r.status !== 'ok');
  const work = run.cells.reduce((a, r) => a + r.timing.totalMs, 0);
  const checked = run.cells.filter((r) => r.seal && !r.seal.error);
  return [
    `This run: ${ms(t.wallMs)} wall (simulation phase ${ms(t.simulateWallMs)}, SEAL phase ${ms(t.sealWallMs)}), ${t.workers} worker threads on ${run.machine.cpus} cores ` +
      `(${run.machine.cpuModel}, Node ${run.machine.node}); ${t.measured} cells measured, ${t.cached} from the cache. ` +
      `The times below were recorded when each cell was measured (one worker thread each); their sum is ${ms(work)} of single-thread work.`,
    '',
    table(
      ['cells', 'count', 'mean per cell', 'of which fine-tune', 'compile', '1000-digit simulation'],
      [
        ...rings.map((n) => {
          const cs = simulated.filter((r) => r.cost!.ringDimension === n);
          return [
            `simulated, N=${n}`,
            String(cs.length),
            ms(mean(cs.map((r) => r.timing.totalMs))),
            ms(mean(cs.map((r) => r.timing.finetuneMs))),
            ms(mean(cs.map((r) => r.timing.compileMs))),
            ms(mean(cs.map((r) => r.timing.simMs))),
          ];
        }),
        ['costed only or failed', String(others.length), ms(mean(others.map((r) => r.timing.totalMs))), '', '', ''],
      ],
    ),
    '',
    checked.length
      ? `SEAL spot checks: ${checked.length} cells, mean setup (context, keys, plaintexts) ${ms(mean(checked.map((r) => r.seal!.setupMs)))}, ` +
        `mean of the per-digit median latency ${ms(mean(checked.map((r) => r.seal!.latencyMs.median)))}.`
      : '',
  ].join('\n');
}

/** Per family, one row per series of the given method: the loss at every k, so networks compare at a glance. */
function comparisonTables(s: StudySummary, method: string): string {
  const fams = new Map<string, StudySummary['series']>();
  for (const se of s.series) {
    if (se.method !== method) continue;
    const key = familyKey(se.cells.find((c) => c.model) ?? se.cells[0]!);
    fams.set(key, [...(fams.get(key) ?? []), se]);
  }
  const out: string[] = [];
  for (const list of fams.values()) {
    if (list.length < 2) continue;
    const ks = [...new Set(list.flatMap((se) => se.cells.filter((c) => c.status === 'ok').map((c) => c.cell.k)))].sort((a, b) => a - b);
    const first = list[0]!.cells.find((c) => c.model) ?? list[0]!.cells[0]!;
    out.push(`**${familyTitle(first)}** (${method}; loss in points, **bold** = smallest k within ${s.budgetPoints})\n`);
    out.push(
      table(
        ['series', ...ks.map((k) => `k=${k}`), 'smallest k', 'its predicted latency'],
        list.map((se) => {
          const best = se.cells.find((c) => c.cell.k === se.smallestK);
          return [
            se.label,
            ...ks.map((k) => {
              const c = se.cells.find((x) => x.cell.k === k);
              if (!c) return '';
              if (c.status !== 'ok') return c.status === 'failed' ? 'fail' : 'costed';
              return se.smallestK === k ? `**${pts(c.pann!.lossPoints)}**` : pts(c.pann!.lossPoints);
            }),
            se.smallestK === null ? 'none' : String(se.smallestK),
            best?.cost ? ms(best.cost.predictedLatencyMs) : '—',
          ];
        }),
      ),
    );
    out.push('');
  }
  return out.join('\n');
}

/** A results.json read back (for re-rendering the report with other options); errors name the bad field. */
export function studyRunFromJSON(raw: unknown, source = 'results'): StudyRun {
  const o = raw as Partial<StudyRun> | null;
  const fail = (field: string, msg: string): never => {
    throw new StudyError(`${source}: ${field}: ${msg}`);
  };
  if (!o || typeof o !== 'object' || Array.isArray(o)) fail('results', 'expected a JSON object');
  if (o!.format !== RESULTS_FORMAT) fail('format', `expected "${RESULTS_FORMAT}", got ${JSON.stringify(o!.format)}`);
  if (o!.version !== RESULTS_VERSION) fail('version', `this pann reads version ${RESULTS_VERSION}, got ${JSON.stringify(o!.version)}`);
  if (!Array.isArray(o!.cells)) fail('cells', 'expected an array of cell results');
  o!.cells!.forEach((c, i) => {
    if (!c || typeof c !== 'object' || typeof c.id !== 'string' || !c.cell || !['ok', 'costed', 'failed'].includes(c.status)) {
      fail(`cells[${i}]`, 'not a cell result (needs id, cell, status)');
    }
  });
  if (!o!.timing || !o!.machine || !o!.grid) fail('timing', 'missing timing, machine or grid');
  // JSON has no NaN: numbers written as null come back as null; the report prints them as "—"
  return o as StudyRun;
}

/** The Markdown report. */
export function studyMarkdown(run: StudyRun, summary: StudySummary, options: ReportOptions = {}): string {
  const grid = run.grid as { name?: string; settings?: { split?: string; count?: number; noiseSeed?: number } };
  const settings = grid.settings ?? {};
  const s = summary;
  const parts = [
    `# Precision study: ${grid.name ?? 'study'}`,
    '',
    ...(options.command
      ? ['Reproduce with one command (from the repository root, after `npx tsc`):', '', '```sh', options.command, '```', '']
      : []),
    `Every cell: the network compiled at precision k (each activation's max error ≤ B·2^-k on its calibrated [-B, B]), ` +
      `run through the \`sim\` backend with the CKKS noise model (seed ${settings.noiseSeed ?? '?'}) on the ${settings.count ?? '?'} digits of the MNIST ${settings.split ?? '?'} split; ` +
      `loss = float accuracy − PANN accuracy in points. Cells: ${s.counts.ok} measured, ${s.counts.costed} compiled and costed only, ${s.counts.failed} failed. ` +
      `SEAL spot checks: ${s.seal.cells} cells, ${s.seal.agreeWithSim}/${s.seal.sample} digits where real encryption predicts what the simulator predicts` +
      `${s.seal.sample ? ` (${((100 * s.seal.agreeWithSim) / s.seal.sample).toFixed(1)}%)` : ''}${s.seal.failed ? `, ${s.seal.failed} spot checks failed` : ''}.`,
    '',
    `## Answers: the cheapest precision within ${s.budgetPoints} points of accuracy loss`,
    '',
    `Latencies are the compiler's predictions for one encrypted digit (encrypt + evaluate + decrypt, from the measured node-seal op costs); SEAL-measured medians where the cell was spot-checked. ` +
      `"latency saved" compares with the same series at a uniform k = ${s.baselineK}.`,
    '',
    answersTable(s),
    '',
    ...(options.discussion ? [options.discussion.trim(), ''] : []),
    '## Baseline against training techniques and remedies',
    '',
    comparisonTables(s, 'remez'),
    '## Plots',
    '',
    '![accuracy loss vs precision](loss-vs-k.svg)',
    '',
    '![accuracy vs encrypted latency](accuracy-vs-latency.svg)',
    '',
    '## Per-network tables',
    '',
    seriesTables(s),
    '## SEAL spot checks',
    '',
    sealTable(run.cells),
    '',
    '## Failed cells',
    '',
    failureTable(run.cells),
    '',
    '## Timing',
    '',
    timingSection(run),
    '',
    `Code version ${run.codeVersion}. Raw data: results.json, results.csv.`,
    '',
  ];
  return parts.join('\n');
}

/** Write results.json, results.csv, report.md and the plots into `outDir`; returns the files written. */
export function writeStudyOutputs(run: StudyRun, outDir: string, options: ReportOptions = {}): string[] {
  mkdirSync(outDir, { recursive: true });
  const summary = summarizeStudy(run.cells, options.budgetPoints ?? 0.5, options.baselineK ?? 12);
  const command = options.command ?? run.command;
  const files: [string, string][] = [
    ['results.json', `${JSON.stringify({ ...run, ...(command ? { command } : {}) }, null, 1)}\n`],
    ['results.csv', studyCsv(run.cells)],
    ['report.md', studyMarkdown(run, summary, { ...options, ...(command ? { command } : {}) })],
    ...studyPlots(summary).map((p): [string, string] => [p.file, p.svg]),
  ];
  for (const [name, text] of files) writeFileAtomic(join(outDir, name), text);
  return files.map(([name]) => join(outDir, name));
}
