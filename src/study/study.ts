/**
 * runStudy: expand a grid into cells, measure every cell not already in the cache (in parallel worker threads,
 * or in this thread), then SEAL-spot-check the selected cells. Resumable (results cached per cell as they
 * finish), deterministic (seeded noise, seeded fine-tuning), failure-tolerant (a failed cell is a result).
 */
import { availableParallelism, cpus } from 'node:os';
import { resolve } from 'node:path';
import { createFitCache } from '../approx/search.js';
import { StudyError, errorMessage } from '../errors.js';
import { compiledWorkerScript } from '../worker-script.js';
import { CellCache, cellKey, codeVersion } from './cell-cache.js';
import { type CellDeps, type CellTask, emptySealCheck, isCacheable, runCellTask, simulationLimit } from './cell.js';
import type { CellResult } from './cell-result.js';
import type { CellWorkerData } from './cell-worker.js';
import { type StudyCell, type StudyGrid, type StudySettings, expandGrid, gridToJSON } from './grid.js';
import { StudyModels } from './models.js';
import { paretoFront } from './pareto.js';
import { type PoolTask, WorkerPool } from './worker-pool.js';
import { type DataSpec, dataFingerprint, isMnist } from '../nn/data-source.js';

export const RESULTS_FORMAT = 'pann-study-results';
export const RESULTS_VERSION = 1;

export interface StudyProgress {
  phase: 'simulate' | 'seal';
  done: number;
  total: number;
  /** Cells answered from the cache in this phase. */
  cached: number;
  failed: number;
  elapsedMs: number;
  /** Estimated time left in this phase (from the cells measured so far), or null before the first one. */
  etaMs: number | null;
  /** The cell that just finished. */
  cell?: { id: string; status: CellResult['status']; ms: number };
}

/** Options of {@link runStudy}: where models and the cache are, workers, progress, cancellation. */
export interface StudyOptions {
  /** Where relative model paths in the grid start. @default process.cwd() */
  baseDir?: string;
  /** Per-cell result cache (resume); null = none. @default '.pann-cache/study' under the current directory */
  cacheDir?: string | null;
  /** Worker threads; 0 = measure in this thread. @default os.availableParallelism() */
  workers?: number;
  /** Stop dispatching new cells when aborted (running cells finish and are cached). */
  signal?: AbortSignal;
  /** Worker threads: a cell (simulation) running longer fails as timed out. @default 60 minutes */
  cellTimeoutMs?: number;
  /** Worker threads: a SEAL spot check running longer fails as timed out. @default 15 minutes */
  sealTimeoutMs?: number;
  onProgress?: (p: StudyProgress) => void;
  /** Your own data (split, calibration and fine-tuning parts as for MNIST). @default the MNIST split */
  data?: DataSpec;
}

/** A finished study: every cell's result with the grid and the settings it ran with (the results file). */
export interface StudyRun {
  format: typeof RESULTS_FORMAT;
  version: typeof RESULTS_VERSION;
  grid: Record<string, unknown>;
  codeVersion: string;
  machine: { cpus: number; cpuModel: string; node: string; platform: string };
  /** Results in grid order (only cells that finished, if interrupted). */
  cells: CellResult[];
  timing: {
    wallMs: number;
    simulateWallMs: number;
    sealWallMs: number;
    workers: number;
    /** Cells measured in this run, answered from the cache, and failed (either way). */
    measured: number;
    cached: number;
    failed: number;
  };
  interrupted: boolean;
  /** The command that produced the run (set when its outputs are written). */
  command?: string;
}

/** The compiled worker module (workers run JavaScript; under a TypeScript runner, the one in dist/). */
export function cellWorkerScript(): string {
  return compiledWorkerScript(
    import.meta.url,
    'cell-worker.js',
    (script, advice) =>
      new StudyError(`the study's worker threads run compiled JavaScript, and ${script} is missing: ${advice} (or use 0 workers)`),
  );
}

/** Which measured cells get a SEAL spot check. */
export function sealSelection(results: readonly CellResult[], which: 'none' | 'all' | 'front'): CellResult[] {
  const ok = results.filter((r) => r.status === 'ok' && r.pann && r.cost);
  if (which === 'none') return [];
  if (which === 'all') return ok;
  const byModel = new Map<string, CellResult[]>();
  for (const r of ok) {
    const key = `${r.cell.model.path}|${r.cell.model.technique}`;
    byModel.set(key, [...(byModel.get(key) ?? []), r]);
  }
  return [...byModel.values()].flatMap((rs) =>
    paretoFront(rs.map((r) => ({ latency: r.cost!.predictedLatencyMs, accuracy: r.pann!.accuracy }))).map((i) => rs[i]!),
  );
}

function crashResult(cell: StudyCell, key: string, error: string): CellResult {
  return {
    id: cell.id,
    key,
    cell,
    status: 'failed',
    error: { stage: 'simulate', code: 'internal', message: error },
    timing: { finetuneMs: 0, compileMs: 0, simMs: 0, totalMs: 0 },
    notes: [],
  };
}

/** Run tasks on the pool or in this thread. */
async function execute(
  tasks: PoolTask<CellTask>[],
  pool: WorkerPool<CellTask, CellResult> | null,
  deps: CellDeps,
  signal: AbortSignal | undefined,
  timeouts: { cell: number; seal: number },
  onResult: (task: PoolTask<CellTask>, r: CellResult) => void,
  onCrash: (task: PoolTask<CellTask>, error: string) => CellResult,
): Promise<void> {
  if (!pool) {
    for (const t of tasks) {
      if (signal?.aborted) return;
      let r: CellResult;
      try {
        r = await runCellTask(t.payload, deps);
      } catch (err) {
        r = onCrash(t, errorMessage(err));
      }
      onResult(t, r);
      await new Promise((res) => setImmediate(res));
    }
    return;
  }
  await pool.run(tasks, {
    onResult,
    onCrash,
    shouldStop: () => signal?.aborted === true,
    // each SEAL check gets a fresh thread: its WASM heap (keys of up to a GB) goes back to the system
    recycle: (t) => t.payload.mode === 'seal',
    timeoutMs: (t) => (t.payload.mode === 'seal' ? timeouts.seal : timeouts.cell),
  });
}

/** Measure a grid (see the module comment). */
export async function runStudy(grid: StudyGrid, options: StudyOptions = {}): Promise<StudyRun> {
  const t0 = performance.now();
  const setup = studySetup(grid, options);
  const results = cachedResults(setup);
  const cached = results.size;
  const pool = setup.workers > 0 ? cellPool(setup) : null;
  const ctx: PhaseContext = { results, pool, deps: setup.deps, options };
  let simulate: { wallMs: number; measured: number };
  let sealWallMs = 0;
  try {
    simulate = await runPhase(ctx, 'simulate', simulationTasks(setup, results), cached, setup.cells.length);
    if (!options.signal?.aborted) sealWallMs = await runSealChecks(ctx, setup.settings);
  } finally {
    await pool?.close();
  }
  return studyRun(grid, setup, results, { t0, simulateWallMs: simulate.wallMs, sealWallMs, measured: simulate.measured, cached });
}

/** The grid's cells with their cache keys, and what measuring them needs. */
interface StudySetup {
  baseDir: string;
  cacheDir: string | null;
  workers: number;
  settings: StudySettings;
  cells: StudyCell[];
  /** Cache key of each cell, in grid order. */
  keys: string[];
  code: string;
  cache: CellCache | null;
  deps: CellDeps;
}

/** The options with their defaults, the cells the grid expands to, and their cache keys. */
function studySetup(grid: StudyGrid, options: StudyOptions): StudySetup {
  const baseDir = options.baseDir ?? process.cwd();
  const cacheDir = options.cacheDir === undefined ? resolve('.pann-cache', 'study') : options.cacheDir;
  const workers = options.workers ?? availableParallelism();
  if (!Number.isInteger(workers) || workers < 0) throw new StudyError(`workers must be an integer ≥ 0, got ${workers}`);
  const own = options.data && !isMnist(options.data) ? options.data : null;
  const settings = own ? { ...grid.settings, data: { spec: own, fingerprint: dataFingerprint(own) } } : grid.settings;
  const models = new StudyModels(baseDir, settings.data?.spec);
  const cells = expandGrid(grid, (path) => models.get(path).facts);
  const code = codeVersion();
  const cache = cacheDir ? new CellCache(cacheDir) : null;
  const deps: CellDeps = { models, settings, fitCache: createFitCache(), cache, code };
  const keys = cells.map((c) => cellKey(c, models.get(c.model.path).hash, settings, code));
  return { baseDir, cacheDir, workers, settings, cells, keys, code, cache, deps };
}

/** Results already in the cache, by cell id. */
function cachedResults(setup: StudySetup): Map<string, CellResult> {
  const results = new Map<string, CellResult>();
  setup.cells.forEach((c, i) => {
    const hit = setup.cache?.read(setup.keys[i]!);
    // a cell only costed under other limits is measured now if these limits allow it
    if (hit && !(hit.status === 'costed' && hit.cost && simulationLimit(hit.cost, setup.settings) === null)) {
      results.set(c.id, hit);
    }
  });
  return results;
}

function cellPool(setup: StudySetup): WorkerPool<CellTask, CellResult> {
  const { baseDir, cacheDir, settings, code } = setup;
  return new WorkerPool<CellTask, CellResult>({
    script: cellWorkerScript(),
    size: Math.min(setup.workers, Math.max(1, setup.cells.length)),
    workerData: { baseDir, cacheDir, settings, code } satisfies CellWorkerData,
  });
}

/** A simulation task for every cell without a result. */
function simulationTasks(setup: StudySetup, results: Map<string, CellResult>): PoolTask<CellTask>[] {
  return setup.cells.flatMap((c, i) =>
    results.has(c.id) ? [] : [{ id: c.id, affinity: affinityOf(c), payload: { mode: 'sim' as const, cell: c, key: setup.keys[i]! } }],
  );
}

/** SEAL-check the selected cells not yet checked with this sample; returns the phase's wall time (0 if none is wanted). */
async function runSealChecks(ctx: PhaseContext, settings: StudySettings): Promise<number> {
  const sample = settings.seal.sample;
  if (!(sample > 0 && settings.seal.cells !== 'none')) return 0;
  const chosen = sealSelection([...ctx.results.values()], settings.seal.cells);
  const todo = chosen.filter((r) => !r.seal || r.seal.sample !== Math.min(sample, settings.count));
  const tasks = todo.map((r) => ({ id: r.id, affinity: affinityOf(r.cell), payload: { mode: 'seal' as const, result: r, sample } }));
  return (await runPhase(ctx, 'seal', tasks, chosen.length - todo.length, chosen.length)).wallMs;
}

/** What the phases share: the results so far (by cell id, updated as cells finish) and where tasks run. */
interface PhaseContext {
  results: Map<string, CellResult>;
  pool: WorkerPool<CellTask, CellResult> | null;
  deps: CellDeps;
  options: StudyOptions;
}

/** Run one phase's tasks, reporting progress before the first and after each; returns its wall time and cells measured. */
async function runPhase(
  ctx: PhaseContext,
  name: StudyProgress['phase'],
  tasks: PoolTask<CellTask>[],
  cachedInPhase: number,
  total: number,
): Promise<{ wallMs: number; measured: number }> {
  const { results, options } = ctx;
  const start = performance.now();
  let done = cachedInPhase;
  let measured = 0;
  let failed = [...results.values()].filter((r) => r.status === 'failed').length;
  const report = (cell?: StudyProgress['cell']) => {
    const elapsedMs = performance.now() - start;
    const left = total - done;
    options.onProgress?.({
      phase: name,
      done,
      total,
      cached: cachedInPhase,
      failed,
      elapsedMs,
      etaMs: measured > 0 ? (elapsedMs / measured) * left : null,
      ...(cell ? { cell } : {}),
    });
  };
  report();
  const timeouts = { cell: options.cellTimeoutMs ?? 60 * 60_000, seal: options.sealTimeoutMs ?? 15 * 60_000 };
  const onResult = (task: PoolTask<CellTask>, r: CellResult) => {
    results.set(r.id, r);
    done++;
    measured++;
    if (r.status === 'failed') failed++;
    report({ id: r.id, status: r.status, ms: task.payload.mode === 'sim' ? r.timing.totalMs : (r.seal?.setupMs ?? 0) });
  };
  const onCrash = (task: PoolTask<CellTask>, error: string) => crashedTaskResult(task.payload, error, ctx.deps.cache ?? null);
  await execute(tasks, ctx.pool, ctx.deps, options.signal, timeouts, onResult, onCrash);
  return { wallMs: performance.now() - start, measured };
}

/** The result of a task whose worker crashed or timed out (cached when it may be). */
function crashedTaskResult(p: CellTask, error: string, cache: CellCache | null): CellResult {
  const r = p.mode === 'sim' ? crashResult(p.cell, p.key, error) : { ...p.result, seal: { ...emptySealCheck(p.sample), error } };
  if (cache && isCacheable(r)) cache.write(r.key, r);
  return r;
}

/** The run's record: results in grid order, the machine, and the timing. */
function studyRun(
  grid: StudyGrid,
  setup: StudySetup,
  results: Map<string, CellResult>,
  t: { t0: number; simulateWallMs: number; sealWallMs: number; measured: number; cached: number },
): StudyRun {
  const ordered = setup.cells.flatMap((c) => results.get(c.id) ?? []);
  return {
    format: RESULTS_FORMAT,
    version: RESULTS_VERSION,
    grid: gridToJSON(grid),
    codeVersion: setup.code,
    machine: {
      cpus: availableParallelism(),
      cpuModel: cpus()[0]?.model ?? 'unknown',
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
    },
    cells: ordered,
    timing: {
      wallMs: performance.now() - t.t0,
      simulateWallMs: t.simulateWallMs,
      sealWallMs: t.sealWallMs,
      workers: setup.workers,
      measured: t.measured,
      cached: t.cached,
      failed: ordered.filter((r) => r.status === 'failed').length,
    },
    interrupted: ordered.length < setup.cells.length,
  };
}

/** Cells that share fits and models: same model, method and remedy. */
function affinityOf(c: StudyCell): string {
  return `${c.model.path}|${c.method}|${c.remedy}`;
}
