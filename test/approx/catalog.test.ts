import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseApproximationFile } from '../../src/approx/approximation-file.js';
import { buildCatalog, catalogFileName, catalogSpecs, type CatalogIndexEntry } from '../../src/approx/catalog.js';

const DIR = fileURLToPath(new URL('../../approximations/', import.meta.url));
const index = JSON.parse(readFileSync(join(DIR, 'index.json'), 'utf8')) as { format: string; version: number; entries: CatalogIndexEntry[] };

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
    const pick = new Set(['relu_-1_1_k06.json', 'relu_-1_1_k13.json', 'gelu_-4_4_k09.json', 'ulu-a1-0.5-a2-2_-4_4_k07.json', 'silu-beta-1_-8_8_k05.json']);
    const catalog = buildCatalog({ filter: (s) => pick.has(catalogFileName(s)) });
    expect(catalog.files.size).toBe(pick.size);
    for (const [name, text] of catalog.files) expect(text, name).toBe(readFileSync(join(DIR, name), 'utf8'));
    for (const e of catalog.entries) expect(index.entries).toContainEqual(e);
  });
});
