import { describe, expect, it } from 'vitest';
import { parseActivation } from '../../src/approx/activations.js';
import { fitApproximation, scaleApproximation } from '../../src/approx/fitted.js';
import { measureMaxError } from '../../src/approx/max-error.js';
import { candidateDegrees, createFitCache, fitForPrecision } from '../../src/approx/search.js';

describe('precision search', () => {
  it('finds the smallest degree whose measured error meets 2^-k (the next smaller candidate misses)', () => {
    for (const [spec, iv, k] of [
      ['relu', [-1, 1], 6],
      ['gelu', [-4, 4], 10],
      ['ulu:a1=0.5,a2=2', [-4, 4], 7],
    ] as const) {
      const act = parseActivation(spec);
      const fit = fitForPrecision(act, { interval: iv, k, methods: ['remez'] });
      expect(fit.maxError, spec).toBeLessThanOrEqual(2 ** -k);
      const cands = candidateDegrees(act, iv, 1024, false);
      const below = cands[cands.indexOf(fit.degree) - 1]!;
      const smaller = fitApproximation(act, { interval: iv, method: 'remez', degree: below });
      expect(smaller.maxError, `${spec} degree ${below}`).toBeGreaterThan(2 ** -k);
      // independently measured again
      expect(measureMaxError((x) => act.f(x), fit.approximation).maxError).toBe(fit.maxError);
    }
  });

  it('picks the cheapest method by depth, then ciphertext multiplications', () => {
    const fit = fitForPrecision(parseActivation('relu'), { interval: [-1, 1], k: 7 });
    for (const alt of fit.alternatives) {
      if (!alt.fit) continue;
      expect(alt.fit.cost.depth).toBeGreaterThanOrEqual(fit.cost.depth);
    }
    expect(fit.method).toBe('remez');
    // a composite is the only way past degree 1024 for ReLU at k = 13
    const high = fitForPrecision(parseActivation('relu'), { interval: [-1, 1], k: 13, methods: ['composite'] });
    expect(high.method).toBe('composite');
    expect(high.maxError).toBeLessThanOrEqual(2 ** -13);
  });

  it('composites with a stage-depth cap: more, shallower stages (for short segments between refresh rounds)', () => {
    const relu = parseActivation('relu');
    const deep = fitForPrecision(relu, { interval: [-1, 1], k: 12, methods: ['composite'] });
    const shallow = fitForPrecision(relu, { interval: [-1, 1], k: 12, methods: ['composite'], compositeStageDepth: 3 });
    const degrees = (f: typeof deep) => f.approximation.stages.map((st) => st.coefficients.length - 1);
    expect(Math.max(...degrees(deep))).toBeGreaterThan(7); // the shallowest composite overall has a stage of depth 4
    expect(Math.max(...degrees(shallow))).toBeLessThanOrEqual(7);
    expect(degrees(shallow).length).toBeGreaterThan(degrees(deep).length);
    expect(shallow.maxError).toBeLessThanOrEqual(2 ** -12);
    expect(() => fitForPrecision(relu, { interval: [-1, 1], k: 12, methods: ['composite'], compositeStageDepth: 1 })).toThrow(
      /compositeStageDepth must be an integer in 2\.\.10, got 1/,
    );
  });

  it('a target exactly on a minimax error is met (ReLU at k = 4: degree 2, error 1/16 = 2^-4)', () => {
    const fit = fitForPrecision(parseActivation('relu'), { interval: [-1, 1], k: 4, methods: ['remez'] });
    expect(fit.degree).toBe(2);
    expect(fit.maxError).toBeLessThanOrEqual(2 ** -4);
  });

  it('a sweep over k with a shared cache returns what fresh searches return, byte for byte', () => {
    const act = parseActivation('ulu:a1=0.5,a2=2');
    const cache = createFitCache();
    for (const k of [6, 7, 8, 9, 10]) {
      const swept = fitForPrecision(act, { interval: [-8, 8], k, cache });
      const fresh = fitForPrecision(act, { interval: [-8, 8], k });
      expect(swept.degree, `k=${k}`).toBe(fresh.degree);
      expect(swept.method, `k=${k}`).toBe(fresh.method);
      expect(Array.from(swept.stages[0]!.polynomial.coefficients), `k=${k}`).toEqual(Array.from(fresh.stages[0]!.polynomial.coefficients));
      expect(swept.maxError).toBe(fresh.maxError);
      // the degree below misses (its minimax polynomial, fitted from scratch)
      const below = fitApproximation(act, { interval: [-8, 8], method: 'remez', degree: swept.degree - 1 });
      expect(below.maxError, `k=${k} degree ${swept.degree - 1}`).toBeGreaterThan(2 ** -k);
    }
  });

  it('the fit cache holds what a sweep reuses: measured fits, Remez bounds and references, Chebyshev estimates, samples', () => {
    const act = parseActivation('gelu');
    const cache = createFitCache();
    const fit = fitForPrecision(act, { interval: [-8, 8], k: 9, cache });
    expect(cache.fits.size).toBeGreaterThan(0);
    expect(cache.remez.size).toBe(1); // one (activation, interval, weight)
    expect(cache.probes.size).toBe(1); // one (activation, interval)
    const bounds = [...cache.remez.values()][0]!;
    expect(bounds.lower.size).toBeGreaterThan(0);
    expect(bounds.references.size).toBeGreaterThan(0);
    const probes = [...cache.probes.values()][0]!;
    expect(probes.chebyshev.size).toBeGreaterThan(0);
    expect(probes.samples.size).toBeGreaterThan(0);
    // the same search again is answered from the cache: the same fit, no new fits
    const fits = cache.fits.size;
    const again = fitForPrecision(act, { interval: [-8, 8], k: 9, cache });
    expect(again.stages).toEqual(fit.stages);
    expect(cache.fits.size).toBe(fits);
  });

  it('methods deeper than the chosen fit are fitted when alternatives are read; all are measured and cost no less', () => {
    const fit = fitForPrecision(parseActivation('relu'), { interval: [-1, 1], k: 9 });
    expect(Object.keys(fit)).not.toContain('alternatives');
    expect({ ...fit }).not.toHaveProperty('alternatives');
    const alts = fit.alternatives;
    expect(fit.alternatives).toBe(alts); // computed once
    expect(alts.map((x) => x.method)).toEqual(['chebyshev', 'remez', 'composite']);
    for (const alt of alts) {
      expect(alt.fit, alt.method).not.toBeNull();
      expect(alt.fit!.maxError, alt.method).toBeLessThanOrEqual(2 ** -9);
      expect(measureMaxError((x) => Math.max(0, x), alt.fit!.approximation).maxError).toBe(alt.fit!.maxError);
      expect(alt.fit!.cost.depth).toBeGreaterThanOrEqual(fit.cost.depth);
    }
    expect(alts[2]!.fit!.cost.depth).toBeGreaterThan(fit.cost.depth);
  });

  it('weighted search: the target applies to the unweighted error, negative inputs get less', () => {
    const fit = fitForPrecision(parseActivation('relu'), {
      interval: [-1, 1],
      k: 6,
      weight: { negative: 4, positive: 1 },
      methods: ['remez'],
    });
    expect(fit.maxError).toBeLessThanOrEqual(2 ** -6);
    expect(fit.sideErrors!.negative).toBeLessThan(fit.sideErrors!.positive / 3.9);
  });

  it('weighted search: the answer does not depend on what the cache holds', () => {
    // ReLU 64:1 is not monotone in the degree (plain error of the weighted minimax fit); before, a cache warmed by
    // the 2^-9 search steered the 2^-8 search to degree 137 where a cold search finds 87
    const relu = parseActivation('relu');
    const options = { interval: [-1, 1] as const, methods: ['remez' as const], weight: { negative: 64, positive: 1 } };
    const cold = fitForPrecision(relu, { ...options, k: 8 });
    const cache = createFitCache();
    fitForPrecision(relu, { ...options, k: 9, cache });
    const warm = fitForPrecision(relu, { ...options, k: 8, cache });
    expect(warm.degree).toBe(cold.degree);
    expect(warm.maxError).toBe(cold.maxError);
  });

  it('reports unreachable targets and bad arguments with the value', () => {
    const relu = parseActivation('relu');
    expect(() => fitForPrecision(relu, { interval: [-1, 1], k: 20, methods: ['remez'], maxDegree: 64 })).toThrow(
      /no remez fit of relu reaches 2\^-20 = 9.5367431640625e-7 on \[-1, 1\] with degree ≤ 64/,
    );
    expect(() => fitForPrecision(relu, { interval: [-1, 1], k: 41 })).toThrow(/k must be an integer in 1..40, got 41/);
    expect(() => fitForPrecision(relu, { interval: [1, 1], k: 5 })).toThrow(/\[1, 1\] is empty or inverted/);
    expect(() => fitForPrecision(relu, { interval: [-1, 1], k: 5, methods: ['taylor' as never] })).toThrow(/unknown method 'taylor'/);
  });

  it('scales a homogeneous fit: ReLU on [-1, 1] serves [-8, 8] with error × 8 (measured)', () => {
    const relu = parseActivation('relu');
    for (const fit of [
      fitApproximation(relu, { interval: [-1, 1], method: 'remez', degree: 20 }),
      fitApproximation(relu, { interval: [-1, 1], method: 'composite', degrees: [7, 15] }),
    ]) {
      const scaled = scaleApproximation(fit, 8);
      expect(scaled.interval).toEqual([-8, 8]);
      const measured = measureMaxError((x) => relu.f(x), scaled.approximation).maxError;
      expect(Math.abs(measured / scaled.maxError - 1)).toBeLessThan(1e-9);
      expect(scaled.cost).toEqual(fit.cost);
    }
    expect(() => scaleApproximation(fitApproximation(parseActivation('gelu'), { interval: [-1, 1], degree: 8 }), 2)).toThrow(
      /not positively homogeneous/,
    );
  });
});
