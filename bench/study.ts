/**
 * Benchmark of the precision study: the full grid over the shipped models (docs/study/shipped-grid.json: 4
 * networks × k = 3..14 × chebyshev/remez/composite, every cell on the 1000-digit test split through the sim
 * backend with noise) from a cold cache, on all cores. Target: under 10 minutes. Prints the grid's wall time
 * and the cost per cell by ring dimension and stage.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gridFromJSON } from '../src/study/grid.js';
import { runStudy } from '../src/study/study.js';

const TARGET_S = 600;

function stats(xs: number[]): string {
  if (!xs.length) return '— | — | —';
  const s = [...xs].sort((a, b) => a - b);
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  return `${(mean / 1000).toFixed(1)} | ${(s[Math.floor(s.length / 2)]! / 1000).toFixed(1)} | ${(s[s.length - 1]! / 1000).toFixed(1)}`;
}

export async function run(): Promise<void> {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const file = join(root, 'docs', 'study', 'shipped-grid.json');
  const grid = gridFromJSON(JSON.parse(readFileSync(file, 'utf8')), file);
  const cache = mkdtempSync(join(tmpdir(), 'pann-bench-study-'));
  const workers = availableParallelism();
  let run;
  try {
    run = await runStudy(grid, { baseDir: dirname(file), cacheDir: cache, workers });
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
  const cells = run.cells;
  const simulated = cells.filter((c) => c.status === 'ok');
  const rings = [...new Set(simulated.map((c) => c.cost!.ringDimension))].sort((a, b) => a - b);
  const wall = run.timing.wallMs / 1000;
  const out = [
    `## study: the full grid over the shipped models (${cells.length} cells, cold cache, ${workers} worker threads)`,
    '',
    '| cells | simulated (1000 digits each) | costed only (N above 16384) | failed | wall time | target |',
    '|---|---|---|---|---|---|',
    `| ${cells.length} | ${simulated.length} | ${cells.filter((c) => c.status === 'costed').length} | ${cells.filter((c) => c.status === 'failed').length} | ` +
      `${wall.toFixed(0)} s | ≤ ${TARGET_S} s: ${wall <= TARGET_S ? 'met' : 'MISSED'} |`,
    '',
    '## study: cost per simulated cell (seconds; one worker thread each)',
    '',
    '| ring N | cells | total mean | median | max | compile mean | median | max | 1000-digit sim mean | median | max |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...rings.map((n) => {
      const cs = simulated.filter((c) => c.cost!.ringDimension === n);
      return `| ${n} | ${cs.length} | ${stats(cs.map((c) => c.timing.totalMs))} | ${stats(cs.map((c) => c.timing.compileMs))} | ${stats(cs.map((c) => c.timing.simMs))} |`;
    }),
    `| costed / failed | ${cells.length - simulated.length} | ${stats(cells.filter((c) => c.status !== 'ok').map((c) => c.timing.totalMs))} | | | | | | |`,
    '',
  ];
  process.stdout.write(`${out.join('\n')}\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await run();
