import { describe, expect, it } from 'vitest';
import { ACTIVATION_NAMES, activation, activationFromJSON, parseActivation } from '../../src/approx/activations.js';
import { erf, erfc } from '../../src/approx/special.js';

const SPECS = [
  'relu',
  'abs',
  'leaky-relu:alpha=0.1',
  'relu2',
  'square',
  'sigmoid',
  'tanh',
  'gelu',
  'silu',
  'silu:beta=1.7',
  'mish',
  'elu',
  'softplus',
  'ulu:a1=0.5,a2=2',
  'ulu:a1=1.5,a2=1.5',
  'aulu:b1=0.7,b2=1.4',
  'xielu',
  'xielu:ap=1.2,an=2,beta=0.5',
  'swim',
  'lslu:theta=1.5,omega=0.2',
];
// points away from the kinks at 0 and xIELU's eps
const XS = [-3.7, -2.2, -1.3, -0.61, -0.27, 0.19, 0.55, 1.1, 2.4, 3.3];

describe('special functions', () => {
  it('erf and erfc match reference values to ~1e-15 relative', () => {
    // reference values from the closed-form tables (Abramowitz & Stegun, high-precision recomputation)
    const table: [number, number][] = [
      [0.1, 0.1124629160182849],
      [0.5, 0.5204998778130465],
      [1, 0.8427007929497149],
      [2, 0.9953222650189527],
      [2.9, 0.9999589021219005],
      [3.5, 0.9999992569016276],
    ];
    for (const [x, v] of table) {
      expect(Math.abs(erf(x) - v)).toBeLessThan(2e-16 * Math.max(1, Math.abs(v)) * 4);
      expect(erf(-x)).toBe(-erf(x));
    }
    expect(erfc(5) / 1.5374597944280349e-12 - 1).toBeLessThan(1e-13);
    expect(erfc(-1)).toBeCloseTo(1.8427007929497148, 15);
  });
});

describe('activation catalog', () => {
  it('parses, canonicalises and round-trips every activation', () => {
    for (const s of SPECS) {
      const a = parseActivation(s);
      const again = parseActivation(a.toString());
      expect(again.toString()).toBe(a.toString());
      expect(activationFromJSON(a.toJSON()).toString()).toBe(a.toString());
      for (const x of XS) expect(Number.isFinite(a.f(x))).toBe(true);
    }
    expect(parseActivation('ulu:a1=0.5,a2=2').toString()).toBe('ulu:a1=0.5,a2=2');
    expect(parseActivation('Swish').name).toBe('silu');
  });

  it('covers every catalog entry in this test', () => {
    const tested = new Set(SPECS.map((s) => parseActivation(s).name));
    const untested = ACTIVATION_NAMES.filter((n) => !tested.has(n) && !['sign', 'step'].includes(n));
    expect(untested).toEqual([]);
  });

  it('derivatives in x match central finite differences', () => {
    for (const s of SPECS) {
      const a = parseActivation(s);
      for (const x of XS) {
        const h = 1e-6;
        const fd = (a.f(x + h) - a.f(x - h)) / (2 * h);
        expect(Math.abs(a.dfdx(x) - fd), `${s} at ${x}`).toBeLessThan(1e-6 * Math.max(1, Math.abs(fd)));
      }
    }
  });

  it('derivatives in learnable parameters match finite differences', () => {
    for (const s of SPECS) {
      const a = parseActivation(s);
      for (const i of a.learnableIndices) {
        const spec = a.paramSpecs[i]!;
        const h = 1e-6;
        const plus = a.with({ [spec.name]: a.values[i]! + h });
        const minus = a.with({ [spec.name]: a.values[i]! - h });
        for (const x of XS) {
          const fd = (plus.f(x) - minus.f(x)) / (2 * h);
          expect(Math.abs(a.dfdp(x)[i]! - fd), `${s} d/d${spec.name} at ${x}`).toBeLessThan(1e-6 * Math.max(1, Math.abs(fd)));
        }
      }
    }
  });

  it('declared parity structure holds numerically', () => {
    for (const s of [...SPECS, 'sign', 'step']) {
      const a = parseActivation(s);
      const hint = a.parity;
      if (!hint) continue;
      const g = (x: number) => a.f(x) - hint.poly.reduce((acc, c, k) => acc + c * x ** k, 0);
      for (const x of XS) {
        const expected = hint.symmetry === 'even' ? g(x) : -g(x);
        expect(Math.abs(g(-x) - expected), `${s} at ${x}`).toBeLessThan(1e-12 * Math.max(1, Math.abs(g(x))));
      }
    }
  });

  it('declared homogeneity holds numerically', () => {
    for (const s of [...SPECS, 'sign', 'step', 'lslu:theta=2,omega=0']) {
      const a = parseActivation(s);
      const h = a.homogeneity;
      if (h === null) continue;
      for (const x of XS)
        for (const lambda of [0.3, 2.5]) {
          expect(a.f(lambda * x)).toBeCloseTo(lambda ** h * a.f(x), 12);
        }
    }
  });

  it('ULU is x·sigmoid(2a·x) on each side, and AULU is ULU with squared parameters', () => {
    const u = parseActivation('ulu:a1=0.49,a2=1.96');
    const au = parseActivation('aulu:b1=0.7,b2=1.4');
    for (const x of XS) {
      const a = x < 0 ? 0.49 : 1.96;
      expect(u.f(x)).toBeCloseTo(x / (1 + Math.exp(-2 * a * x)), 14);
      expect(au.f(x)).toBeCloseTo(u.f(x), 14);
    }
  });

  it('rejects unknown names and bad parameters with messages naming them', () => {
    expect(() => parseActivation('rleu')).toThrow(/unknown activation 'rleu'.*\n(.|\n)*relu/);
    expect(() => parseActivation('ulu:a1=-1')).toThrow(/a1=-1 must be > 0/);
    expect(() => parseActivation('ulu:a3=1')).toThrow(/no parameter 'a3'.*a1/);
    expect(() => parseActivation('ulu:a1=abc')).toThrow(/a1='abc' is not a finite number/);
    expect(() => parseActivation('ulu:a1')).toThrow(/expected param=value/);
    expect(() => parseActivation('ulu:a1=1,a1=2')).toThrow(/given twice/);
    expect(() => parseActivation('')).toThrow(/empty activation spec/);
    expect(() => parseActivation('aulu:b1=0')).toThrow(/nonzero/);
    expect(() => parseActivation('xielu:an=0.3')).toThrow(/an=0.3 must be > beta=0.5/);
    expect(() => activation('elu', { alpha: Infinity })).toThrow(/not a finite number/);
  });
});
