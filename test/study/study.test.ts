/**
 * The harness end to end on a tiny network and a tiny grid: results and outputs, a failed cell reported (not
 * fatal), resume after an interrupt, and the worker-thread pool giving the same numbers as one thread.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { gridFromJSON, gridToJSON, type StudyGrid } from '../../src/study/grid.js';
import { writeStudyOutputs } from '../../src/study/report.js';
import { type StudyRun, runStudy } from '../../src/study/study.js';
import { tinyModelDir } from './fixtures.js';

let dir: string;
let grid: StudyGrid;

beforeAll(() => {
  const m = tinyModelDir(['relu']);
  dir = m.dir;
  grid = gridFromJSON({
    format: 'pann-study-grid',
    version: 1,
    name: 'tiny',
    models: [m.files[0]],
    precisions: [5, 7],
    methods: ['remez', 'chebyshev'],
    // k = 40 cannot be fitted: a failed cell, reported
    blocks: [{ methods: ['remez', 'chebyshev'] }, { precisions: [40], methods: ['remez'] }],
    settings: { count: 100, calibration: 200, noiseSeed: 7 },
  });
});

function summary(run: StudyRun) {
  return run.cells.map((c) => ({
    id: c.id,
    status: c.status,
    pann: c.pann,
    outside: c.outside,
    depth: c.cost?.depth,
    error: c.error?.message,
  }));
}

describe('runStudy on a tiny grid', () => {
  let first: StudyRun;
  const cache = () => join(dir, 'cache');

  it('measures every cell, reports the failed one, and writes the outputs', async () => {
    const progress: number[] = [];
    first = await runStudy(grid, { baseDir: dir, cacheDir: cache(), workers: 0, onProgress: (p) => progress.push(p.done) });
    expect(first.cells).toHaveLength(5);
    expect(first.interrupted).toBe(false);
    const failed = first.cells.filter((c) => c.status === 'failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]!.cell.k).toBe(40);
    expect(failed[0]!.error).toMatchObject({ stage: 'compile', code: 'compile' });
    expect(failed[0]!.error!.message).toMatch(/precision 40/);
    for (const c of first.cells.filter((x) => x.status === 'ok')) {
      const p = c.pann!;
      expect(p.count).toBe(100);
      expect(p.accuracy).toBeGreaterThan(0.5);
      expect(p.lossPoints).toBeCloseTo(100 * (c.float!.accuracy - p.accuracy), 9);
      expect(p.agreement).toBeGreaterThan(0.5);
      expect(c.outside!.perLayer).toHaveLength(1);
      expect(c.cost!.activations[0]!.degrees.length).toBeGreaterThan(0);
      expect(c.cost!.predictedLatencyMs).toBeGreaterThan(0);
      expect(c.timing.simMs).toBeGreaterThan(0);
    }
    // a finer approximation cannot need a lower degree
    const deg = (m: string, k: number) => first.cells.find((c) => c.cell.method === m && c.cell.k === k)!.cost!.activations[0]!.degrees[0]!;
    expect(deg('remez', 7)).toBeGreaterThan(deg('remez', 5));
    expect(progress.at(-1)).toBe(5);

    const out = join(dir, 'out');
    const files = writeStudyOutputs(first, out, { command: 'pann study tiny.json --out out' });
    expect(files.map((f) => f.split('/').pop()).sort()).toEqual([
      'accuracy-vs-latency.svg',
      'loss-vs-k.svg',
      'report.md',
      'results.csv',
      'results.json',
    ]);
    const csv = readFileSync(join(out, 'results.csv'), 'utf8').trim().split('\n');
    expect(csv).toHaveLength(6);
    expect(csv[0]).toMatch(/^id,model,technique,remedy,method,k,/);
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    expect(md).toContain('pann study tiny.json --out out');
    expect(md).toMatch(/## Failed cells[\s\S]*precision 40/);
    expect(readFileSync(join(out, 'loss-vs-k.svg'), 'utf8')).toMatch(/^<svg [\s\S]*<\/svg>\n$/);
    expect(JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')).format).toBe('pann-study-results');
  });

  it('resumes after an interrupt: finished cells come from the cache, the rest are measured, numbers unchanged', async () => {
    const fresh = join(dir, 'cache-resume');
    const controller = new AbortController();
    const partial = await runStudy(grid, {
      baseDir: dir,
      cacheDir: fresh,
      workers: 0,
      signal: controller.signal,
      onProgress: (p) => p.cell && p.done >= 2 && controller.abort(),
    });
    expect(partial.interrupted).toBe(true);
    expect(partial.cells).toHaveLength(2);
    expect(readdirSync(fresh).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const seen: number[] = [];
    const resumed = await runStudy(grid, { baseDir: dir, cacheDir: fresh, workers: 0, onProgress: (p) => seen.push(p.cached) });
    expect(resumed.timing.cached).toBe(2);
    expect(resumed.timing.measured).toBe(3);
    expect(seen.every((c) => c === 2)).toBe(true);
    expect(summary(resumed)).toEqual(summary(first));
    // a third run is all cache
    const again = await runStudy(grid, { baseDir: dir, cacheDir: fresh, workers: 0 });
    expect(again.timing).toMatchObject({ cached: 5, measured: 0 });
  });

  it('compiles and costs, without simulating, cells above the latency limit; a later run without the limit measures them', async () => {
    const cacheDir = join(dir, 'cache-limit');
    const limited = gridFromJSON({
      ...gridToJSON(grid),
      blocks: [],
      precisions: [5],
      methods: ['remez'],
      settings: { ...grid.settings, maxSimulatedLatencyMs: 1 },
    });
    const costed = await runStudy(limited, { baseDir: dir, cacheDir, workers: 0 });
    expect(costed.cells.map((c) => c.status)).toEqual(['costed']);
    expect(costed.cells[0]!.pann).toBeUndefined();
    expect(costed.cells[0]!.cost!.predictedLatencyMs).toBeGreaterThan(1);
    expect(costed.cells[0]!.notes.join(' ')).toMatch(/predicted latency \d+ ms is above the study's maxSimulatedLatencyMs 1/);
    const open = gridFromJSON({ ...gridToJSON(limited), settings: { ...limited.settings, maxSimulatedLatencyMs: null } });
    const measured = await runStudy(open, { baseDir: dir, cacheDir, workers: 0 });
    expect(measured.timing).toMatchObject({ cached: 0, measured: 1 });
    expect(measured.cells[0]!.status).toBe('ok');
  });

  it('gives the same numbers in worker threads as in one thread (deterministic, seeded)', async () => {
    expect(existsSync(join(__dirname, '../../dist/src/study/cell-worker.js'))).toBe(true);
    const pooled = await runStudy(grid, { baseDir: dir, cacheDir: mkdtempSync(join(tmpdir(), 'pann-study-pool-')), workers: 2 });
    expect(pooled.timing.workers).toBe(2);
    expect(summary(pooled)).toEqual(summary(first));
  });
});
