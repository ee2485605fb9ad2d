/**
 * One cost/depth model: the depth the fitter ranks an approximation by (src/approx/cost.ts) is the depth the
 * compiler gives it (src/compiler/poly-eval.ts) and the levels the emitted circuit consumes.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseActivation } from '../../src/approx/activations.js';
import { parseApproximationFile } from '../../src/approx/approximation-file.js';
import { approximationCost } from '../../src/approx/cost.js';
import { fitForPrecision } from '../../src/approx/search.js';
import { compileNetwork } from '../../src/compiler/compile.js';
import { normaliseApproximation } from '../../src/compiler/poly-eval.js';
import { fitterProvider } from '../../src/compiler/polynomialise.js';
import { inputs, tinyModel } from './fixtures.js';

describe('one depth model for the fitter and the compiler', () => {
  it('every committed catalog entry: stored depth = cost model = compiler', () => {
    const dir = 'approximations';
    const files = readdirSync(dir).filter((f) => f.endsWith('.json') && f !== 'index.json');
    expect(files.length).toBeGreaterThan(200);
    for (const f of files) {
      const fit = parseApproximationFile(readFileSync(join(dir, f), 'utf8'), f);
      const B = fit.interval[1];
      const compiled = normaliseApproximation(fit.approximation, B, fit.activation.homogeneity);
      expect(compiled.depth, f).toBe(fit.cost.depth);
      expect(approximationCost(fit.approximation).depth, f).toBe(fit.cost.depth);
    }
  });

  it('a degree-2 fit is one level in the search and in the circuit', () => {
    const fit = fitForPrecision(parseActivation('relu'), { interval: [-1, 1], k: 4 });
    expect(fit.degree).toBe(2);
    expect(fit.cost.depth).toBe(1);
    const circuit = compileNetwork(tinyModel('relu', 'relu'), {
      precisionBits: 4,
      calibration: { inputs: inputs(30, 2), count: 30, label: 'test' },
      provider: fitterProvider(),
      method: 'remez',
    });
    for (const a of circuit.report.activations) expect(a.degree).toEqual([2]);
    const activations = circuit.stages.filter((s) => s.kind === 'activation');
    expect(activations.map((s) => s.levelIn - s.levelOut)).toEqual([1, 1]);
    expect(circuit.report.activations.map((a) => a.depth)).toEqual([1, 1]);
  });
});
