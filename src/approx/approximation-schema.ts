/**
 * The schema of the approximation file (format "pann-approximation", version 1) and of an activation spec as
 * files hold it. Its messages read `field 'interval' must be …, got …`. What depends on other fields (degree vs
 * coefficient count, parity and cost of the coefficients, log2Error vs maxError, composite-only fields, a < b,
 * finite coefficients, the activation's name and parameters) is checked by approximation-file.ts after it.
 */
import { Type, type Static } from '@sinclair/typebox';
import { errorMessage } from '../errors.js';
import {
  DecimalNumberString,
  Described,
  FiniteNumber,
  Integer,
  OneOf,
  Pair,
  shown,
  withNotes,
  type MessageStyle,
} from '../schema/index.js';
import { activationFromJSON } from './activations.js';

export const APPROXIMATION_FORMAT = 'pann-approximation';
export const APPROXIMATION_VERSION = 1;

/** `f.json: field 'method' must be one of …, got …`; an absent field reads as `got undefined`. */
export const APPROXIMATION_STYLE: MessageStyle = {
  compose: (path, text) => (path === '' ? text : `field '${path}' ${text}`),
  expected: (what, got) => (got === undefined ? `must be ${what}` : `must be ${what}, got ${got}`),
};

/** What is wrong with a value that does not have the shape of an activation, as the activation catalog words it. */
function activationProblem(v: unknown): string {
  try {
    activationFromJSON(v);
    return 'must be an activation spec or {name, params}';
  } catch (err) {
    return errorMessage(err);
  }
}

/** An activation as files hold it: its spec string ("ulu:a1=0.5,a2=2") or `{ name, params }`. */
export const ActivationSpecSchema = withNotes(
  Type.Union([Type.String(), Type.Object({ name: Type.String(), params: Type.Optional(Type.Record(Type.String(), Type.Number())) })]),
  { whole: true, invalid: activationProblem },
);

const finite = FiniteNumber();

/** A count (degree, depth, multiplications): a non-finite value and a non-integer are told apart. */
const count = Integer(
  { min: 0 },
  {
    invalid: (v) => (Number.isFinite(v) ? `must be a non-negative integer, got ${String(v)}` : `must be a finite number, got ${shown(v)}`),
  },
);

/** `[a, b]`; a < b is checked on reading. */
export function intervalText(v: unknown): string {
  return Array.isArray(v) && v.length === 2 ? `must be two finite numbers a < b, got ${shown(v)}` : `must be [a, b], got ${shown(v)}`;
}
const interval = Pair(finite, { whole: true, invalid: intervalText });

/** Coefficient c: a decimal string (files, every bit kept) or a number (`--json`); finite once read. */
export function coefficientText(v: unknown): string {
  return `must be a decimal string of a finite number, got ${shown(v)}`;
}
const coefficients = Described(
  withNotes(Type.Array(withNotes(Type.Union([Type.Number(), DecimalNumberString()]), { whole: true, invalid: coefficientText })), {
    invalid: (v) => `must be an array of decimal strings, got ${shown(v)}`,
  }),
  'Chebyshev coefficients c0 … cd (the polynomial is c0 T0 + c1 T1 + …, c0 not halved)',
);

const cost = {
  depth: Described(count, 'multiplicative depth of the evaluation'),
  ctMultiplications: count,
  scalarMultiplications: count,
  additions: count,
};

const Stage = Type.Object({
  interval,
  basis: Type.Literal('chebyshev'),
  parity: OneOf(['even', 'odd', 'none']),
  degree: count,
  coefficients,
  ...cost,
  epsilon: Type.Optional(finite),
  error: Type.Optional(finite),
});

export const ApproximationFileSchema = withNotes(
  Type.Object(
    {
      format: Type.Literal(APPROXIMATION_FORMAT),
      version: Type.Literal(APPROXIMATION_VERSION),
      activation: ActivationSpecSchema,
      method: OneOf(['chebyshev', 'remez', 'composite']),
      interval: Described(interval, 'the fit interval [a, b]'),
      basis: Type.Literal('chebyshev'),
      parity: Described(OneOf(['even', 'odd', 'none']), 'parity of the stored coefficients'),
      degree: count,
      coefficients: Described(coefficients, 'a single fit: its coefficients (decimal strings); a composite: []'),
      maxError: Described(
        FiniteNumber(
          { min: 0 },
          { invalid: (v) => (Number.isFinite(v) ? `must be ≥ 0, got ${String(v)}` : `must be a finite number, got ${shown(v)}`) },
        ),
        'the measured max |f − p| on the interval',
      ),
      log2Error: Described(finite, 'log2(maxError)'),
      ...cost,
      finish: Described(OneOf(['none', 'relu', 'abs']), 'a composite sign approximation finished as ReLU or |x|'),
      epsilon: Type.Optional(finite),
      error: Type.Optional(finite),
      stages: Type.Optional(
        Described(
          withNotes(Type.Array(Stage), { invalid: () => 'must be a non-empty list for a composite' }),
          'composite fits (only): the polynomials applied in order, at least one',
        ),
      ),
      weight: Type.Optional(
        Described(
          withNotes(Type.Object({ negative: finite, positive: finite }), { invalid: () => 'must be {negative, positive}' }),
          'weighted Remez fits: the error weights on negative and positive inputs (both > 0)',
        ),
      ),
      gap: Type.Optional(Described(finite, 'fits with a gap (sign, step): the fit and its maxError are on [a, -gap] ∪ [gap, b]')),
    },
    {
      $id: 'urn:pann:schema:pann-approximation:1',
      title: 'pann approximation',
      description:
        'A polynomial approximation of an activation (pann fit --out): Chebyshev coefficients as exact decimal strings, ' +
        'the measured error and the evaluation cost. Checks across fields (degree vs coefficients, parity, cost, ' +
        'log2Error, composite-only fields, a < b, the activation name) are made in code on loading.',
    },
  ),
  { invalid: () => 'must be a JSON object' },
);

export type ApproximationFileJson = Static<typeof ApproximationFileSchema>;
export type PolynomialJson = Static<typeof Stage>;
