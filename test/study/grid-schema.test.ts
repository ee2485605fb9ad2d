import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compiledSchema } from '../../src/schema/index.js';
import { gridFromJSON } from '../../src/study/grid.js';
import { GridSchema } from '../../src/study/grid-schema.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

describe('study grid schema', () => {
  it.each(['docs/study/grid.json', 'docs/study/shipped-grid.json'])('accepts %s', (file) => {
    expect(compiledSchema(GridSchema).Check(JSON.parse(readFileSync(join(root, file), 'utf8')))).toBe(true);
  });

  it('rejects a structurally wrong grid naming the file and the field', () => {
    const base = { format: 'pann-study-grid', version: 1, models: ['m'], precisions: [3] };
    const bad = (patch: Record<string, unknown>) => () => gridFromJSON({ ...base, ...patch }, 'g.json');
    expect(bad({ settings: { finetune: { epochs: 0 } } })).toThrow(
      /^g\.json: settings\.finetune\.epochs: expected an integer in 1\.\.100, got 0$/,
    );
    expect(bad({ blocks: [{ scaleBits: ['auto', 10] }] })).toThrow(
      /^g\.json: blocks\[0\]\.scaleBits\[1\]: expected "auto" or an integer in 14\.\.60, got 10$/,
    );
    expect(bad({ settings: { maxSimulatedLatencyMs: -5 } })).toThrow(
      /^g\.json: settings\.maxSimulatedLatencyMs: expected a number of ms > 0 or null, got -5$/,
    );
  });
});
