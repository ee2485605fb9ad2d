/**
 * The committed catalog of fits (`pann fit --catalog`, approximations/): ReLU on [−1, 1] (positively homogeneous,
 * so the compiler scales it to any [−B, B]), and ULU, GELU, SiLU on standard ranges, each at k = 4..14, by the
 * cheapest-method rule of search.ts. One file per entry plus index.json; targets no degree ≤ 1024 reaches are
 * listed as unreachable. Generation is deterministic (fixed order, no randomness), so regenerating gives the same
 * bytes.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FitError, errorMessage } from '../errors.js';
import { parseActivation } from './activations.js';
import { approximationFileText } from './approximation-file.js';
import { fitForPrecision, type FitCache } from './search.js';

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

/** Fit every catalog entry (see the module comment). */
export function buildCatalog(options: CatalogOptions = {}): Catalog {
  const specs = catalogSpecs().filter(options.filter ?? (() => true));
  const files = new Map<string, string>();
  const entries: CatalogIndexEntry[] = [];
  let cache: FitCache = new Map();
  let group = '';
  specs.forEach((spec, i) => {
    const g = `${spec.activation}|${spec.interval.join(',')}`;
    if (g !== group) {
      cache = new Map(); // fits are shared across k within a group only, keeping memory bounded
      group = g;
    }
    const base = { activation: spec.activation, interval: [spec.interval[0], spec.interval[1]] as const, k: spec.k };
    try {
      const fit = fitForPrecision(parseActivation(spec.activation), { interval: spec.interval, k: spec.k, cache });
      const file = catalogFileName(spec);
      files.set(file, approximationFileText(fit));
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
    options.onProgress?.(i + 1, specs.length, spec);
  });
  const indexText = `${JSON.stringify({ format: CATALOG_INDEX_FORMAT, version: CATALOG_INDEX_VERSION, entries }, null, 2)}\n`;
  return { files, entries, indexText };
}

/** Write a catalog's files and index.json into `dir` (created if missing). */
export function writeCatalog(dir: string, catalog: Catalog): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of catalog.files) writeFileSync(join(dir, name), text);
  writeFileSync(join(dir, 'index.json'), catalog.indexText);
}
