import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseApproximationFile } from '../../src/approx/approximation-file.js';
import {
  buildCatalog,
  buildCatalogInParallel,
  catalogFileName,
  catalogSpecs,
  catalogWorkerScript,
  type CatalogIndexEntry,
} from '../../src/approx/catalog.js';

const DIR = fileURLToPath(new URL('../../approximations/', import.meta.url));
const index = JSON.parse(readFileSync(join(DIR, 'index.json'), 'utf8')) as {
  format: string;
  version: number;
  entries: CatalogIndexEntry[];
};

describe('committed catalog', () => {
  it('index lists every entry (ReLU k=4..14 on [-1,1]; ULU×4, GELU, SiLU on ±4, ±8, ±16) and every file loads', () => {
    expect(index.format).toBe('pann-approximation-index');
    expect(index.version).toBe(1);
    expect(index.entries.length).toBe(catalogSpecs().length);
    expect(catalogSpecs().length).toBe(11 + 6 * 3 * 11);
    for (const e of index.entries) {
      if ('unreachable' in e) {
        expect(e.reason).toMatch(/no .* fit/);
        continue;
      }
      expect(existsSync(join(DIR, e.file)), e.file).toBe(true);
      const fit = parseApproximationFile(readFileSync(join(DIR, e.file), 'utf8'), e.file);
      expect(fit.maxError, e.file).toBeLessThanOrEqual(2 ** -e.k);
      expect(fit.degree).toBe(e.degree);
      expect(fit.cost.depth).toBe(e.depth);
    }
    expect(catalogFileName({ activation: 'relu', interval: [-1, 1], k: 8 })).toBe('relu_-1_1_k08.json');
  });

  it('regenerates byte-identically (a subset: single, parity-free and composite entries)', () => {
    const pick = new Set([
      'relu_-1_1_k06.json',
      'relu_-1_1_k13.json',
      'gelu_-4_4_k09.json',
      'ulu-a1-0.5-a2-2_-4_4_k07.json',
      'silu-beta-1_-8_8_k05.json',
    ]);
    const catalog = buildCatalog({ filter: (s) => pick.has(catalogFileName(s)) });
    expect(catalog.files.size).toBe(pick.size);
    for (const [name, text] of catalog.files) expect(text, name).toBe(readFileSync(join(DIR, name), 'utf8'));
    for (const e of catalog.entries) expect(index.entries).toContainEqual(e);
  });

  it('builds on worker threads with the same bytes as on this thread (groups of several k, progress per entry)', async () => {
    // the workers run the compiled JS in dist/ (npm test compiles first)
    expect(existsSync(catalogWorkerScript())).toBe(true);
    const filter = (s: { activation: string; interval: readonly [number, number]; k: number }) =>
      s.k <= 7 && (s.activation === 'relu' || s.activation === 'gelu' || (s.activation === 'ulu:a1=0.5,a2=2' && s.interval[1] === 4));
    const here = buildCatalog({ filter });
    let progress = 0;
    const there = await buildCatalogInParallel({
      filter,
      threads: 2,
      onProgress: (done, total) => {
        expect(done).toBe(++progress);
        expect(total).toBe(here.entries.length);
      },
    });
    expect(progress).toBe(here.entries.length);
    expect(there.indexText).toBe(here.indexText);
    expect([...there.files]).toEqual([...here.files]);
    for (const [name, text] of here.files) expect(text, name).toBe(readFileSync(join(DIR, name), 'utf8'));
    await expect(buildCatalogInParallel({ filter, threads: -1 })).rejects.toThrow(/threads must be an integer ≥ 0, got -1/);
  });
});
