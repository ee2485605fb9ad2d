/**
 * The study's worker thread: measures cells sent by the pool (src/study/worker-pool.ts) with its own caches
 * (models, fits, data), stores each result in the cell cache, and posts it back. Started from compiled JS only.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createFitCache } from '../approx/search.js';
import { CellCache } from './cell-cache.js';
import { type CellDeps, type CellTask, runCellTask } from './cell.js';
import type { StudySettings } from './grid.js';
import { StudyModels } from './models.js';

/** What every study worker is started with. */
export interface CellWorkerData {
  baseDir: string;
  cacheDir: string | null;
  settings: StudySettings;
  /** The main thread's code version (keys of shared simulations). */
  code: string;
}

const port = parentPort;
if (port) {
  const data = workerData as CellWorkerData;
  const deps: CellDeps = {
    models: new StudyModels(data.baseDir, data.settings.data?.spec),
    settings: data.settings,
    fitCache: createFitCache(),
    cache: data.cacheDir ? new CellCache(data.cacheDir) : null,
    code: data.code,
  };
  port.on('message', (m: { type: 'task'; id: string; payload: CellTask }) => {
    void runCellTask(m.payload, deps, (stage) => port.postMessage({ type: 'event', id: m.id, event: { stage } })).then((result) =>
      port.postMessage({ type: 'result', id: m.id, result }),
    );
  });
}
