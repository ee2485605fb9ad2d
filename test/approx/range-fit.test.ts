/**
 * One meaning of precision (issue 18): precision k on a range [a, b] is max error ≤ B·2^-k, B = max(|a|, |b|),
 * for `pann fit` (fitForRange) and the compiler (fitterProvider) alike; the unreachable-target messages; fits
 * with a gap (sign, step); a --degree fit that comes out lower says why.
 */
import { describe, expect, it } from 'vitest';
import { parseActivation } from '../../src/approx/activations.js';
import { approximationFileText, parseApproximationFile } from '../../src/approx/approximation-file.js';
import { degreeShortfall, fitApproximation } from '../../src/approx/fitted.js';
import { measureMaxError } from '../../src/approx/max-error.js';
import { rangeTarget } from '../../src/approx/precision.js';
import { fitForRange } from '../../src/approx/range-fit.js';
import { fitForPrecision } from '../../src/approx/search.js';
import { fitterProvider } from '../../src/compiler/polynomialise.js';

describe('precision k relative to the range (rangeTarget)', () => {
  it('turns k on [-B, B] into the search: whole bits, carried for homogeneous activations', () => {
    // non-homogeneous on [-4, 4]: 4·2^-8 = 2^-6
    expect(rangeTarget(8, [-4, 4], { homogeneity: null })).toMatchObject({ B: 4, bound: 4 * 2 ** -8, carried: false, bits: 6 });
    // B = 3: 2^-⌈8 − log2 3⌉ = 2^-7 ≤ 3·2^-8
    expect(rangeTarget(8, [-3, 3], { homogeneity: null }).bits).toBe(7);
    // ReLU (h = 1) on a symmetric range: fitted on [-1, 1] at 2^-k, error × B
    expect(rangeTarget(8, [-3, 3], { homogeneity: 1 })).toMatchObject({ carried: true, fitInterval: [-1, 1], bits: 8 });
    // ReLU on an asymmetric range: fitted on the range itself, B = max(|a|, |b|)
    expect(rangeTarget(8, [-1, 4], { homogeneity: 1 })).toMatchObject({ B: 4, carried: false, fitInterval: [-1, 4], bits: 6 });
    // h = 2 (square, relu²): error × B², so the [-1, 1] fit must be 2^-10 for 4·2^-8 on [-4, 4]
    expect(rangeTarget(8, [-4, 4], { homogeneity: 2 }).bits).toBe(10);
    // absolute: 2^-k whatever the range
    expect(rangeTarget(8, [-4, 4], { homogeneity: null, meaning: 'absolute' })).toMatchObject({ bound: 2 ** -8, bits: 8 });
    expect(() => rangeTarget(40, [-0.25, 0.25], { homogeneity: null })).toThrow(/needs a fit to 2\^-42 .* outside 1..40/);
  });

  it('pann fit and the compiler choose the same fit for a range: GELU on [-8, 8] at k = 10, ReLU on [-3, 3] at k = 8', () => {
    const provider = fitterProvider();
    for (const [spec, B, k] of [
      ['gelu', 8, 10],
      ['relu', 3, 8],
    ] as const) {
      const activation = parseActivation(spec);
      const fit = fitForRange(activation, { interval: [-B, B], k });
      const provided = provider({ activation, B, precisionBits: k, method: 'auto' });
      expect(provided.approximation.stages.map((s) => s.coefficients.length - 1)).toEqual([fit.degree]);
      expect(provided.maxError).toBe(fit.maxError);
      expect(fit.maxError).toBeLessThanOrEqual(B * 2 ** -k);
    }
  });

  it('the compiler meets B·2^-k for an activation homogeneous of degree 2 (relu²; was B²·2^-k)', () => {
    const activation = parseActivation('relu2');
    const provided = fitterProvider()({ activation, B: 4, precisionBits: 6, method: 'remez' });
    expect(provided.maxError).toBeLessThanOrEqual(4 * 2 ** -6);
    const measured = measureMaxError((x) => activation.f(x), provided.approximation).maxError;
    expect(measured).toBeLessThanOrEqual(4 * 2 ** -6 * (1 + 1e-9));
  });
});

describe('unreachable targets say why for each method', () => {
  it('composite on an asymmetric range: no method applies, because composite needs [-B, B]', () => {
    expect(() => fitForPrecision(parseActivation('relu'), { interval: [-1, 2], k: 8, methods: ['composite'] })).toThrow(
      /no method applies to relu on \[-1, 2\] \(composite: composite needs a symmetric range \[-B, B\]\)/,
    );
  });

  it('a weighted Remez search that reaches nothing: Remez applied, so not "no method applies"', () => {
    let message = '';
    try {
      fitForPrecision(parseActivation('relu'), {
        interval: [-1, 1],
        k: 12,
        methods: ['remez'],
        weight: { negative: 4, positive: 1 },
        maxDegree: 24,
      });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/no remez fit of relu reaches 2\^-12 .* with degree ≤ 24 \(remez: /);
    expect(message).not.toMatch(/no method applies/);
  });
});

describe('fits with a gap (sign, step)', () => {
  const sign = parseActivation('sign');

  it('fits and measures on [a, -ε] ∪ [ε, b]; a precision search reaches its target; the file keeps the gap', () => {
    const fit = fitForPrecision(sign, { interval: [-1, 1], k: 5, methods: ['remez'], gap: 0.1 });
    expect(fit.gap).toBe(0.1);
    expect(fit.maxError).toBeLessThanOrEqual(2 ** -5);
    const onPieces = measureMaxError((x) => sign.f(x), fit.approximation, {
      intervals: [
        [-1, -0.1],
        [0.1, 1],
      ],
    }).maxError;
    expect(onPieces).toBeCloseTo(fit.maxError, 12);
    const loaded = parseApproximationFile(approximationFileText(fit));
    expect(loaded.gap).toBe(0.1);
    expect(loaded.maxError).toBe(fit.maxError);
    // carried to [-2, 2]: the gap scales with the range
    const wide = fitForRange(sign, { interval: [-2, 2], k: 6, methods: ['remez'], gap: 0.2 });
    expect(wide.gap).toBeCloseTo(0.2, 15);
    expect(wide.maxError).toBeLessThanOrEqual(2 * 2 ** -6);
  });

  it('rejects a gap that leaves no piece on one side, and composite or weighted fits with a gap', () => {
    expect(() => fitApproximation(sign, { interval: [-1, 1], degree: 9, gap: 1 })).toThrow(/gap ε must satisfy 0 < ε < 1 .* got 1/);
    expect(() => fitApproximation(sign, { interval: [-1, 1], degree: 9, gap: 0 })).toThrow(/got 0/);
    expect(() => fitApproximation(sign, { interval: [0.5, 1], degree: 9, gap: 0.1 })).toThrow(/0 < ε < -0.5/);
    expect(() => fitForPrecision(sign, { interval: [-1, 1], k: 5, methods: ['chebyshev'], gap: 0.1 })).toThrow(/unweighted remez fit/);
  });
});

describe('a --degree fit that comes out lower says why', () => {
  it('GELU degree 15 on [-8, 8] is degree 14: gelu − x/2 is even', () => {
    const fit = fitApproximation(parseActivation('gelu'), { interval: [-8, 8], method: 'remez', degree: 15 });
    expect(fit.degree).toBe(14);
    expect(degreeShortfall(fit, 15)).toMatch(/asked for degree 15, got 14: gelu\(x\) − \(0.5·x\) is even on the symmetric range/);
    expect(degreeShortfall(fit, 14)).toBeUndefined();
  });
});
