/**
 * The committed catalog of fits (`pann fit --catalog`, approximations/): ReLU on [−1, 1] (positively homogeneous,
 * so the compiler scales it to any [−B, B]), and ULU, GELU, SiLU on standard ranges, each at k = 4..14, by the
 * cheapest-method rule of search.ts. One file per entry plus index.json; targets no degree ≤ 1024 reaches are
 * listed as unreachable. An entry's k is absolute (max error ≤ 2^-k on its interval, `pann fit --absolute`), as
 * the catalog has always been generated; for ReLU on [-1, 1] (B = 1) that is also pann's relative precision k
 * (≤ B·2^-k), the fits the compiler carries to [-B, B]. Generation is deterministic (fixed order, no randomness), so regenerating gives the same
 * bytes.
 *
 * The entries of one (activation, interval) group are fitted in order of k with one shared fit cache; groups are
 * independent, so {@link buildCatalogInParallel} fits them on worker threads (catalog-worker.ts, compiled JS) and
 * produces the same bytes as {@link buildCatalog}.
 */
import { mkdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { FitError, errorMessage } from '../errors.js';
import { compiledWorkerScript } from '../worker-script.js';
import { parseActivation } from './activations.js';
import { approximationFileText } from './approximation-file.js';
import { createFitCache, fitForPrecision, type FitCache } from './search.js';
import { writeFileAtomic } from '../files.js';

export const CATALOG_INDEX_FORMAT = 'pann-approximation-index';
export const CATALOG_INDEX_VERSION = 1;

/** One catalog entry to generate. */
export interface CatalogSpec {
  readonly activation: string;
  readonly interval: readonly [number, number];
  readonly k: number;
}

const KS = Array.from({ length: 11 }, (_, i) => i + 4);
const SMOOTH_RANGES: readonly (readonly [number, number])[] = [
  [-4, 4],
  [-8, 8],
  [-16, 16],
];
const SMOOTH_ACTIVATIONS = ['ulu:a1=0.5,a2=2', 'ulu:a1=1,a2=1', 'ulu:a1=0.3,a2=1.5', 'ulu:a1=2,a2=0.5', 'gelu', 'silu'];

/** Every entry of the catalog, grouped by (activation, interval), k ascending. */
export function catalogSpecs(): CatalogSpec[] {
  const out: CatalogSpec[] = KS.map((k) => ({ activation: 'relu', interval: [-1, 1] as const, k }));
  for (const a of SMOOTH_ACTIVATIONS) {
    const act = parseActivation(a).toString();
    for (const iv of SMOOTH_RANGES) for (const k of KS) out.push({ activation: act, interval: iv, k });
  }
  return out;
}

/** File name of an entry, e.g. `relu_-1_1_k08.json`, `ulu-a1-0.5-a2-2_-4_4_k12.json`. */
export function catalogFileName(spec: CatalogSpec): string {
  const slug = spec.activation.replace(/[:,=]/g, '-');
  return `${slug}_${spec.interval[0]}_${spec.interval[1]}_k${String(spec.k).padStart(2, '0')}.json`;
}

export type CatalogIndexEntry =
  | {
      readonly activation: string;
      readonly interval: readonly [number, number];
      readonly k: number;
      readonly file: string;
      readonly method: string;
      readonly degree: number;
      readonly depth: number;
      readonly ctMultiplications: number;
      readonly maxError: number;
    }
  | {
      readonly activation: string;
      readonly interval: readonly [number, number];
      readonly k: number;
      readonly unreachable: true;
      readonly reason: string;
    };

export interface Catalog {
  /** File name → file text. */
  readonly files: ReadonlyMap<string, string>;
  readonly entries: readonly CatalogIndexEntry[];
  /** index.json text. */
  readonly indexText: string;
}

export interface CatalogOptions {
  /** Generate only the entries this accepts (e.g. for tests). @default every entry */
  filter?: (spec: CatalogSpec) => boolean;
  onProgress?: (done: number, total: number, spec: CatalogSpec) => void;
}

/** The fitted files and index entries of one group (entries of one activation and interval, k ascending). */
export interface CatalogGroupResult {
  /** [file name, file text] in entry order. */
  readonly files: readonly (readonly [string, string])[];
  readonly entries: readonly CatalogIndexEntry[];
}

/** Fit the entries of one group in order, sharing one fit cache across k (the unit of a parallel build). */
export function buildCatalogGroup(specs: readonly CatalogSpec[], onEntry?: (spec: CatalogSpec) => void): CatalogGroupResult {
  const cache: FitCache = createFitCache();
  const files: [string, string][] = [];
  const entries: CatalogIndexEntry[] = [];
  for (const spec of specs) {
    const base = { activation: spec.activation, interval: [spec.interval[0], spec.interval[1]] as const, k: spec.k };
    try {
      const fit = fitForPrecision(parseActivation(spec.activation), { interval: spec.interval, k: spec.k, cache });
      const file = catalogFileName(spec);
      files.push([file, approximationFileText(fit)]);
      entries.push({
        ...base,
        file,
        method: fit.method,
        degree: fit.degree,
        depth: fit.cost.depth,
        ctMultiplications: fit.cost.ctMultiplications,
        maxError: fit.maxError,
      });
    } catch (err) {
      if (!(err instanceof FitError)) throw err;
      entries.push({ ...base, unreachable: true, reason: errorMessage(err) });
    }
    onEntry?.(spec);
  }
  return { files, entries };
}

/** The selected specs split into groups: runs of consecutive entries with the same activation and interval. */
function catalogGroups(options: CatalogOptions): CatalogSpec[][] {
  const groups: CatalogSpec[][] = [];
  let key = '';
  for (const spec of catalogSpecs().filter(options.filter ?? (() => true))) {
    const k = `${spec.activation}|${spec.interval.join(',')}`;
    if (k !== key || groups.length === 0) groups.push([]);
    groups[groups.length - 1]!.push(spec);
    key = k;
  }
  return groups;
}

function assembleCatalog(results: readonly CatalogGroupResult[]): Catalog {
  const files = new Map<string, string>();
  const entries: CatalogIndexEntry[] = [];
  for (const r of results) {
    for (const [name, text] of r.files) files.set(name, text);
    entries.push(...r.entries);
  }
  const indexText = `${JSON.stringify({ format: CATALOG_INDEX_FORMAT, version: CATALOG_INDEX_VERSION, entries }, null, 2)}\n`;
  return { files, entries, indexText };
}

/** Fit every catalog entry (see the module comment), on this thread. */
export function buildCatalog(options: CatalogOptions = {}): Catalog {
  const groups = catalogGroups(options);
  const total = groups.reduce((n, g) => n + g.length, 0);
  let done = 0;
  return assembleCatalog(groups.map((g) => buildCatalogGroup(g, (spec) => options.onProgress?.(++done, total, spec))));
}

export interface ParallelCatalogOptions extends CatalogOptions {
  /** Worker threads; 0 or 1 builds on this thread. @default min(2, available parallelism) */
  threads?: number;
}

/** The compiled worker module: next to this file in dist/, or dist/src/approx/ under a TypeScript runner. */
export function catalogWorkerScript(): string {
  return compiledWorkerScript(
    import.meta.url,
    'catalog-worker.js',
    (script, advice) =>
      new FitError(`catalog: the worker threads run compiled JavaScript, and ${script} is missing: ${advice} (or use threads: 1)`),
  );
}

/** Message from a catalog worker. */
type CatalogWorkerMessage =
  | { readonly type: 'entry'; readonly group: number; readonly spec: CatalogSpec }
  | { readonly type: 'result'; readonly group: number; readonly result: CatalogGroupResult };

/**
 * {@link buildCatalog} with the groups fitted on worker threads, largest first (ranges without a parity
 * hint, widest first), each thread taking the next group when it finishes one. Same files, same bytes.
 */
export async function buildCatalogInParallel(options: ParallelCatalogOptions = {}): Promise<Catalog> {
  const groups = catalogGroups(options);
  const threads = Math.min(options.threads ?? Math.min(2, availableParallelism()), groups.length);
  if (!Number.isInteger(threads) || threads < 0) throw new FitError(`catalog: threads must be an integer ≥ 0, got ${options.threads}`);
  if (threads <= 1) return buildCatalog(options);
  const script = catalogWorkerScript();
  const total = groups.reduce((n, g) => n + g.length, 0);
  const weight = (g: readonly CatalogSpec[]) => {
    const [a, b] = g[0]!.interval;
    return (b - a) * (parseActivation(g[0]!.activation).parity ? 1 : 4) + 8 * g.length;
  };
  const queue = groups.map((_g, i) => i).sort((i, j) => weight(groups[j]!) - weight(groups[i]!) || i - j);
  const results = new Array<CatalogGroupResult>(groups.length);
  const workers: Worker[] = [];
  let done = 0;
  try {
    await new Promise<void>((resolvePromise, reject) => {
      let running = 0;
      const next = (w: Worker) => {
        const group = queue.shift();
        if (group === undefined) {
          if (running === 0) resolvePromise();
          return;
        }
        running++;
        w.postMessage({ group, specs: groups[group] });
      };
      for (let t = 0; t < threads; t++) {
        const w = new Worker(script);
        workers.push(w);
        w.on('message', (m: CatalogWorkerMessage) => {
          if (m.type === 'entry') options.onProgress?.(++done, total, m.spec);
          else {
            results[m.group] = m.result;
            running--;
            next(w);
          }
        });
        w.on('error', (err) => reject(new FitError(`catalog: a worker thread failed: ${errorMessage(err)}`, { cause: err })));
        w.on('exit', (code) => {
          if (code !== 0) reject(new FitError(`catalog: a worker thread exited with code ${code}`));
        });
        next(w);
      }
    });
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return assembleCatalog(results);
}

/** Write a catalog's files and index.json into `dir` (created if missing). */
export function writeCatalog(dir: string, catalog: Catalog): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of catalog.files) writeFileAtomic(join(dir, name), text);
  writeFileAtomic(join(dir, 'index.json'), catalog.indexText);
}
