import { describe, expect, it } from 'vitest';
import { parseActivation } from '../../src/approx/activations.js';
import {
  approximationFileText,
  approximationFromJSON,
  approximationToJSON,
  parseApproximationFile,
} from '../../src/approx/approximation-file.js';
import { fitApproximation } from '../../src/approx/fitted.js';
import { evalApproximation } from '../../src/approx/polynomial.js';

const remez = fitApproximation(parseActivation('ulu:a1=0.5,a2=2'), { interval: [-4, 4], method: 'remez', degree: 15 });
const relu = fitApproximation(parseActivation('relu'), {
  interval: [-1, 1],
  method: 'remez',
  degree: 12,
  weight: { negative: 4, positive: 1 },
});
const composite = fitApproximation(parseActivation('relu'), { interval: [-1, 1], method: 'composite', degrees: [7, 15] });

describe('approximation file', () => {
  it('round-trips exactly (decimal strings keep every bit) for single, weighted and composite fits', () => {
    for (const fit of [remez, relu, composite]) {
      const text = approximationFileText(fit);
      const back = parseApproximationFile(text, 'test.json');
      expect(back.activation.toString()).toBe(fit.activation.toString());
      expect(back.maxError).toBe(fit.maxError);
      expect(back.cost).toEqual(fit.cost);
      expect(back.stages.length).toBe(fit.stages.length);
      back.stages.forEach((s, i) =>
        expect(Array.from(s.polynomial.coefficients)).toEqual(Array.from(fit.stages[i]!.polynomial.coefficients)),
      );
      for (const x of [-0.9, -0.01, 0, 0.3, 1])
        expect(evalApproximation(back.approximation, x)).toBe(evalApproximation(fit.approximation, x));
      expect(approximationFileText(back)).toBe(text);
    }
    expect(relu.weight).toEqual({ negative: 4, positive: 1 });
    const json = approximationToJSON(composite, 'number');
    expect(json.coefficients).toEqual([]);
    expect((json.stages as { coefficients: unknown[] }[])[0]!.coefficients.every((c) => typeof c === 'number')).toBe(true);
    expect(approximationFromJSON(json).maxError).toBe(composite.maxError);
  });

  it('stores the fields scripts rely on', () => {
    const j = approximationToJSON(remez, 'string');
    for (const f of [
      'format',
      'version',
      'activation',
      'method',
      'interval',
      'basis',
      'parity',
      'degree',
      'coefficients',
      'maxError',
      'log2Error',
      'depth',
      'ctMultiplications',
      'scalarMultiplications',
      'finish',
    ]) {
      expect(j, f).toHaveProperty(f);
    }
    expect(j.activation).toEqual({ name: 'ulu', params: { a1: 0.5, a2: 2 } });
    expect((j.coefficients as string[]).every((c) => typeof c === 'string' && Number.isFinite(Number(c)))).toBe(true);
  });

  it('names the bad field', () => {
    const good = approximationToJSON(remez, 'string');
    const bad = (patch: Record<string, unknown>) => () => approximationFromJSON({ ...good, ...patch }, 'f.json');
    expect(bad({ format: 'other' })).toThrow(/f.json: field 'format' must be "pann-approximation"/);
    expect(bad({ version: 2 })).toThrow(/field 'version' must be 1, got 2/);
    expect(bad({ activation: { name: 'rleu' } })).toThrow(/field 'activation' unknown activation 'rleu'/);
    expect(bad({ method: 'taylor' })).toThrow(/field 'method' must be one of/);
    expect(bad({ interval: [1, -1] })).toThrow(/field 'interval' must be two finite numbers a < b/);
    expect(bad({ basis: 'monomial' })).toThrow(/field 'basis' must be "chebyshev"/);
    const coeffs = [...(good.coefficients as string[])];
    coeffs[2] = 'abc';
    expect(bad({ coefficients: coeffs })).toThrow(/field 'coefficients\[2\]' must be a decimal string of a finite number, got "abc"/);
    expect(bad({ degree: 14 })).toThrow(/field 'degree' is 14 but there are 16 coefficients/);
    expect(bad({ depth: 1 })).toThrow(/field 'depth' is 1 but the coefficients need \d+/);
    expect(bad({ maxError: 'small' })).toThrow(/field 'maxError' must be a finite number/);
    expect(bad({ log2Error: 3 })).toThrow(/field 'log2Error' is 3 but log2\(maxError\)/);
    expect(bad({ finish: 'relu' })).toThrow(/field 'finish' must be "none" for method remez/);
    expect(bad({ parity: 'odd' })).toThrow(/field 'parity' is "odd" but the coefficients are none/);
    const cj = approximationToJSON(composite, 'string');
    expect(() => approximationFromJSON({ ...cj, stages: [] })).toThrow(/field 'stages' must be a non-empty list/);
    const st = (cj.stages as Record<string, unknown>[]).map((s) => ({ ...s }));
    st[1]!.ctMultiplications = 99;
    expect(() => approximationFromJSON({ ...cj, stages: st })).toThrow(/field 'stages\[1\].ctMultiplications' is 99/);
    expect(() => parseApproximationFile('{not json', 'x.json')).toThrow(/x.json: not valid JSON/);
  });
});
