import { describe, expect, it } from 'vitest';
import { parseActivation } from '../../src/approx/activations.js';
import {
  PUBLISHED_SIGN_DEGREES,
  evalCompositeSign,
  fitCompositeSign,
  searchSignDegrees,
  searchSignFinish,
} from '../../src/approx/composite.js';
import { compositeFromSign } from '../../src/approx/fitted.js';
import { measureMaxError } from '../../src/approx/max-error.js';
import { RELU_COMPOSITES } from '../../src/approx/search.js';

const sign = (x: number) => (x > 0 ? 1 : x < 0 ? -1 : 0);
const signApprox = (stages: { polynomial: { interval: readonly [number, number]; coefficients: ArrayLike<number> } }[]) => ({
  activation: 'sign',
  method: 'composite' as const,
  interval: [-1, 1] as const,
  stages: stages.map((s) => s.polynomial),
  finish: 'none' as const,
});

describe('composite sign', () => {
  it('meets precision α on [-1, -2^-α] ∪ [2^-α, 1] (degrees found by the depth-first search), measured densely', () => {
    for (const alpha of [6, 8, 10]) {
      const found = searchSignDegrees(alpha);
      expect(found, `alpha ${alpha}`).not.toBeNull();
      const eps = 2 ** -alpha;
      const m = measureMaxError(sign, signApprox([...found!.sign.stages]), {
        intervals: [
          [-1, -eps],
          [eps, 1],
        ],
      });
      expect(m.maxError, `alpha ${alpha}: degrees ${found!.degrees.join(',')}`).toBeLessThanOrEqual(2 ** -alpha);
      // the stage-wise bound agrees with the dense measurement
      expect(Math.abs(m.maxError - found!.sign.signError) / m.maxError).toBeLessThan(1e-6);
    }
  });

  it('keeps every stage input inside its domain (stage i+1 is stored on [-R_i, R_i], R_i = max |p_i|)', () => {
    const s = fitCompositeSign({ degrees: [7, 15, 27], epsilon: 2 ** -9 });
    for (let i = 0; i < 4001; i++) {
      let v = -1 + i / 2000;
      for (const st of s.stages) {
        const [a, b] = st.polynomial.interval;
        expect(v).toBeGreaterThanOrEqual(a * (1 + 1e-12));
        expect(v).toBeLessThanOrEqual(b * (1 + 1e-12));
        const t = (2 * v - a - b) / (b - a);
        v = (st.polynomial.coefficients as number[]).reduce(
          (acc, c, j) => acc + c * Math.cos(j * Math.acos(Math.max(-1, Math.min(1, t)))),
          0,
        );
      }
      expect(v).toBeCloseTo(evalCompositeSign(s, -1 + i / 2000), 9);
    }
  });

  it('documents the published lists: with gap 2^-α they cannot reach 2^-α (degree product < 2^α, Bernstein)', () => {
    for (const [a, degrees] of Object.entries(PUBLISHED_SIGN_DEGREES)) {
      const alpha = Number(a);
      const product = degrees.reduce((p, d) => p * d, 1);
      expect(product).toBeLessThan(2 ** alpha);
    }
    // (7, 7, 13) does reach 2^-10 with a larger gap: 2^-6
    const s = fitCompositeSign({ degrees: PUBLISHED_SIGN_DEGREES[10]!, epsilon: 2 ** -6 });
    expect(s.signError).toBeLessThan(2 ** -10);
  });

  it('ReLU composites: the table entry is what the search finds, and the measured error meets 2^-k', () => {
    const found = searchSignFinish('relu', 2 ** -8);
    expect(found!.degrees).toEqual(RELU_COMPOSITES[8]!.degrees);
    expect(found!.sign.epsilon).toBe(RELU_COMPOSITES[8]!.epsilon);
    expect(RELU_COMPOSITES[10]!.degrees).toEqual([7, 7, 13]); // Lee et al.'s α = 10 list, found independently
    const relu = parseActivation('relu');
    for (const k of [8, 10]) {
      const e = RELU_COMPOSITES[k]!;
      const fit = compositeFromSign(relu, [-1, 1], fitCompositeSign({ degrees: e.degrees, epsilon: e.epsilon }));
      expect(fit.maxError, `k=${k}`).toBeLessThanOrEqual(2 ** -k);
      expect(fit.cost.depth).toBe(fit.stages.reduce((s, st) => s + st.cost.depth, 0) + 1);
      // the error inside the gap (−ε, ε) is measured too and is below the total
      const gap = measureMaxError((x) => relu.f(x), fit.approximation, { intervals: [[-e.epsilon, e.epsilon]] });
      expect(gap.maxError).toBeLessThanOrEqual(fit.maxError * (1 + 1e-12));
    }
  });

  it('rejects bad stage degrees and gaps', () => {
    expect(() => fitCompositeSign({ degrees: [8], epsilon: 0.1 })).toThrow(/stage degree 8 must be an odd integer/);
    expect(() => fitCompositeSign({ degrees: [], epsilon: 0.1 })).toThrow(/degrees must list/);
    expect(() => fitCompositeSign({ degrees: [7], epsilon: 0 })).toThrow(/epsilon must be in \(0, 1\), got 0/);
  });
});
