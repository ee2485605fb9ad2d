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
import { type StudyCell, type StudyGrid, expandGrid, gridToJSON } from './grid.js';
import { StudyModels } from './models.js';
import { paretoFront } from './pareto.js';
import { type PoolTask, WorkerPool } from './worker-pool.js';

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
}

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
  const baseDir = options.baseDir ?? process.cwd();
  const cacheDir = options.cacheDir === undefined ? resolve('.pann-cache', 'study') : options.cacheDir;
  const workers = options.workers ?? availableParallelism();
  if (!Number.isInteger(workers) || workers < 0) throw new StudyError(`workers must be an integer ≥ 0, got ${workers}`);
  const settings = grid.settings;
  const models = new StudyModels(baseDir);
  const cells = expandGrid(grid, (path) => models.get(path).facts);
  const code = codeVersion();
  const cache = cacheDir ? new CellCache(cacheDir) : null;
  const deps: CellDeps = { models, settings, fitCache: createFitCache(), cache, code };
  const keys = cells.map((c) => cellKey(c, models.get(c.model.path).hash, settings, code));
  const results = new Map<string, CellResult>();
  let cachedCount = 0;
  let measured = 0;
  cells.forEach((c, i) => {
    const hit = cache?.read(keys[i]!);
    // a cell only costed under other limits is measured now if these limits allow it
    if (hit && !(hit.status === 'costed' && hit.cost && simulationLimit(hit.cost, settings) === null)) {
      results.set(c.id, hit);
      cachedCount++;
    }
  });

  const pool =
    workers > 0
      ? new WorkerPool<CellTask, CellResult>({
          script: cellWorkerScript(),
          size: Math.min(workers, Math.max(1, cells.length)),
          workerData: { baseDir, cacheDir, settings, code } satisfies CellWorkerData,
        })
      : null;
  const phase = async (name: 'simulate' | 'seal', tasks: PoolTask<CellTask>[], cachedInPhase: number, total: number) => {
    const start = performance.now();
    let done = cachedInPhase;
    let measuredHere = 0;
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
        etaMs: measuredHere > 0 ? (elapsedMs / measuredHere) * left : null,
        ...(cell ? { cell } : {}),
      });
    };
    report();
    await execute(
      tasks,
      pool,
      deps,
      options.signal,
      { cell: options.cellTimeoutMs ?? 60 * 60_000, seal: options.sealTimeoutMs ?? 15 * 60_000 },
      (task, r) => {
        results.set(r.id, r);
        done++;
        measuredHere++;
        if (name === 'simulate') measured++;
        if (r.status === 'failed') failed++;
        report({ id: r.id, status: r.status, ms: task.payload.mode === 'sim' ? r.timing.totalMs : (r.seal?.setupMs ?? 0) });
      },
      (task, error) => {
        const p = task.payload;
        const r = p.mode === 'sim' ? crashResult(p.cell, p.key, error) : { ...p.result, seal: { ...emptySealCheck(p.sample), error } };
        if (cache && isCacheable(r)) cache.write(r.key, r);
        return r;
      },
    );
    return performance.now() - start;
  };

  let simulateWallMs = 0;
  let sealWallMs = 0;
  try {
    const simTasks = cells.flatMap((c, i) =>
      results.has(c.id) ? [] : [{ id: c.id, affinity: affinityOf(c), payload: { mode: 'sim' as const, cell: c, key: keys[i]! } }],
    );
    simulateWallMs = await phase('simulate', simTasks, cachedCount, cells.length);
    const sample = settings.seal.sample;
    if (!options.signal?.aborted && sample > 0 && settings.seal.cells !== 'none') {
      const chosen = sealSelection([...results.values()], settings.seal.cells);
      const todo = chosen.filter((r) => !r.seal || r.seal.sample !== Math.min(sample, settings.count));
      const tasks = todo.map((r) => ({ id: r.id, affinity: affinityOf(r.cell), payload: { mode: 'seal' as const, result: r, sample } }));
      sealWallMs = await phase('seal', tasks, chosen.length - todo.length, chosen.length);
    }
  } finally {
    await pool?.close();
  }
  const ordered = cells.flatMap((c) => results.get(c.id) ?? []);
  return {
    format: RESULTS_FORMAT,
    version: RESULTS_VERSION,
    grid: gridToJSON(grid),
    codeVersion: code,
    machine: {
      cpus: availableParallelism(),
      cpuModel: cpus()[0]?.model ?? 'unknown',
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
    },
    cells: ordered,
    timing: {
      wallMs: performance.now() - t0,
      simulateWallMs,
      sealWallMs,
      workers,
      measured,
      cached: cachedCount,
      failed: ordered.filter((r) => r.status === 'failed').length,
    },
    interrupted: ordered.length < cells.length,
  };
}

/** Cells that share fits and models: same model, method and remedy. */
function affinityOf(c: StudyCell): string {
  return `${c.model.path}|${c.method}|${c.remedy}`;
}
