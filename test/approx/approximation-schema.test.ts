import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseActivation } from '../../src/approx/activations.js';
import { approximationFromJSON, approximationToJSON } from '../../src/approx/approximation-file.js';
import { ApproximationFileSchema } from '../../src/approx/approximation-schema.js';
import { fitApproximation } from '../../src/approx/fitted.js';
import { compiledSchema } from '../../src/schema/index.js';

const dir = join(resolve(dirname(fileURLToPath(import.meta.url)), '../..'), 'approximations');

describe('approximation schema', () => {
  it('accepts every shipped approximation file', () => {
    const files = readdirSync(dir).filter((f) => f.endsWith('.json') && f !== 'index.json');
    expect(files.length).toBeGreaterThan(10);
    for (const f of files)
      expect(compiledSchema(ApproximationFileSchema).Check(JSON.parse(readFileSync(join(dir, f), 'utf8'))), f).toBe(true);
  });

  it("rejects a structurally wrong file naming the file and the field, in the format's wording", () => {
    const fit = fitApproximation(parseActivation('relu'), { interval: [-1, 1], method: 'composite', degrees: [3, 5] });
    const good = approximationToJSON(fit, 'string');
    const bad = (patch: Record<string, unknown>) => () => approximationFromJSON({ ...good, ...patch }, 'f.json');
    expect(bad({ interval: 'x' })).toThrow(/^f\.json: field 'interval' must be \[a, b\], got "x"$/);
    const stages = (good.stages as Record<string, unknown>[]).map((s) => ({ ...s }));
    stages[0]!.coefficients = '0.5';
    expect(bad({ stages })).toThrow(/^f\.json: field 'stages\[0\]\.coefficients' must be an array of decimal strings, got "0\.5"$/);
    expect(bad({ weight: { negative: 1 } })).toThrow(/^f\.json: field 'weight\.positive' must be a finite number, got undefined$/);
  });
});
