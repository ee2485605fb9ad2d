/**
 * The schema of the study grid file (format "pann-study-grid", version 1): the axes (at the top level and in
 * blocks), and the settings shared by every cell. Defaults are filled in and checks across fields (a `{from, to}`
 * range with from ≤ to and its values in 1..40, models and precisions given at the top level or in every block)
 * are made in code by grid.ts after it.
 */
import { Type, type Static, type TOptional, type TSchema } from '@sinclair/typebox';
import { PRECISION_BITS_RANGE } from '../approx/precision.js';
import { Described, FiniteNumber, Integer, List, NonEmptyString, OneOf, shown, withNotes } from '../schema/index.js';

const K = PRECISION_BITS_RANGE;

export const GRID_FORMAT = 'pann-study-grid';
export const GRID_VERSION = 1;

export const STUDY_METHODS = ['chebyshev', 'remez', 'composite', 'auto'] as const;
export const REMEDIES = ['none', 'finetune', 'asymmetric'] as const;

const TECHNIQUE = '^[A-Za-z0-9][A-Za-z0-9_.+-]*$';

/** The message for a precision outside PRECISION_BITS_RANGE (also for the values of a `{from, to}` range). */
export function precisionText(k: unknown): string {
  return `precision must be an integer in ${K.min}..${K.max}, got ${shown(k)}`;
}

export function rangeObjectText(v: unknown): string {
  return `expected { "from": a, "to": b, "step": s } with integers a ≤ b and s ≥ 1, got ${shown(v)}`;
}

/** An axis: a non-empty list. */
function axis<T extends TSchema>(item: T, description: string): ReturnType<typeof Type.Array<T>> {
  return Described(
    withNotes(
      List(item, { min: 1 }, () => 'is empty: a grid needs at least one value on every axis'),
      { invalid: (v) => `expected an array, got ${shown(v)}` },
    ),
    description,
  );
}

function oneOfList<const V extends readonly string[]>(values: V, description: string) {
  return axis(OneOf(values, { invalid: (v) => `expected one of ${values.join(', ')}, got ${shown(v)}` }), description);
}

const MODEL_ENTRY = 'expected a model path or { "path": ..., "technique": ... }';

const AXES = {
  models: axis(
    withNotes(
      Type.Union([
        NonEmptyString({ invalid: () => MODEL_ENTRY }),
        Type.Object({
          path: NonEmptyString({ invalid: () => 'expected a non-empty string' }),
          technique: Type.Optional(
            withNotes(Type.String({ pattern: TECHNIQUE }), {
              invalid: (v) => `expected a label of letters, digits and _.+- , got ${shown(v)}`,
            }),
          ),
        }),
      ]),
      { invalid: () => MODEL_ENTRY },
    ),
    'model files (relative to the grid file), as paths or { path, technique } (technique @default "baseline")',
  ),
  precisions: Described(
    withNotes(
      Type.Union([
        axis(Integer({ min: K.min, max: K.max }, { invalid: precisionText }), 'the precisions k'),
        withNotes(
          Type.Object(
            { from: Type.Integer(), to: Type.Integer(), step: Type.Optional(Type.Integer({ minimum: 1 })) },
            { description: 'k = from, from + step, … ≤ to (step @default 1)' },
          ),
          { whole: true, invalid: rangeObjectText },
        ),
      ]),
      { invalid: (v) => `expected an array, got ${shown(v)}` },
    ),
    `precisions k in bits (${K.min}..${K.max}): a list or { from, to, step }`,
  ),
  methods: oneOfList(STUDY_METHODS, 'approximation methods. @default ["remez"]'),
  remedies: oneOfList(REMEDIES, 'per-cell remedies. @default ["none"]'),
  ranges: axis(
    withNotes(
      Type.Object({
        rule: Type.Optional(OneOf(['max', 'percentile'], { expected: '"max" or "percentile"' })),
        margin: Type.Optional(FiniteNumber({ min: 1, max: 100 })),
        percentile: Type.Optional(FiniteNumber({ above: 0, max: 100 })),
      }),
      { invalid: () => 'expected { "rule": "max" | "percentile", "margin": m, "percentile": p }' },
    ),
    'range rules: B = margin × (max or percentile of |x|). @default [{ "rule": "max", "margin": 1.1, "percentile": 99.9 }]',
  ),
  scaleBits: axis(
    withNotes(Type.Union([Type.Literal('auto'), Type.Integer({ minimum: 14, maximum: 60 })]), {
      whole: true,
      expected: '"auto" or an integer in 14..60',
    }),
    'CKKS scale bits ("auto": the compiler\'s choice). @default ["auto"]',
  ),
};

export const AXIS_NAMES = Object.keys(AXES) as (keyof typeof AXES)[];

function optional<T extends Record<string, TSchema>>(properties: T): { [K in keyof T]: TOptional<T[K]> } {
  return Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, Type.Optional(v)])) as never;
}

const Block = withNotes(Type.Object(optional(AXES), { additionalProperties: false }), {
  invalid: () => 'expected an object of axes',
  unknownField: () => `unknown axis (axes: ${AXIS_NAMES.join(', ')})`,
});

const seed = Integer({ min: 0, max: 2 ** 31 - 1 });

const Settings = Type.Object(
  optional({
    split: OneOf(['test', 'validation'], {
      invalid: (v) => `expected "test" or "validation" (train is the calibration split), got ${shown(v)}`,
    }),
    count: Integer({ min: 1, max: 1000 }),
    calibration: Integer({ min: 1, max: 8000 }),
    noiseSeed: seed,
    asymmetricWeight: FiniteNumber({ above: 0 }),
    finetune: Type.Object(
      optional({
        epochs: Integer({ min: 1, max: 100 }),
        learningRate: FiniteNumber({ above: 0 }),
        seed,
        range: OneOf(['clamp', 'penalty'], { expected: '"clamp" or "penalty"' }),
      }),
    ),
    maxSimulatedRing: withNotes(Type.Union([1024, 2048, 4096, 8192, 16384, 32768].map((n) => Type.Literal(n))), {
      whole: true,
      invalid: (v) => `expected a ring dimension 1024..32768 (a power of two), got ${shown(v)}`,
    }),
    maxSimulatedLatencyMs: withNotes(Type.Union([FiniteNumber({ above: 0 }), Type.Null()]), {
      whole: true,
      expected: 'a number of ms > 0 or null',
    }),
    maxSimulatedDegree: withNotes(Type.Union([Integer({ min: 1 }), Type.Null()]), { whole: true, expected: 'an integer ≥ 1 or null' }),
    seal: Type.Object(
      optional({
        sample: Integer({ min: 0, max: 1000 }),
        cells: OneOf(['none', 'all', 'front'], { expected: '"none", "all" or "front"' }),
      }),
    ),
  }),
  { description: 'settings shared by every cell; each has a default (src/study/grid.ts, DEFAULT_SETTINGS)' },
);

const TOP_FIELDS = ['format', 'version', 'name', 'blocks', 'settings', ...AXIS_NAMES];

export const GridSchema = withNotes(
  Type.Object(
    {
      format: Type.Literal(GRID_FORMAT),
      version: withNotes(Type.Literal(GRID_VERSION), { invalid: (v) => `this pann reads version ${GRID_VERSION}, got ${shown(v)}` }),
      name: Type.Optional(NonEmptyString({ invalid: () => 'expected a non-empty string' })),
      ...optional(AXES),
      blocks: Type.Optional(
        Described(
          withNotes(Type.Array(Block), { invalid: () => 'expected an array of partial grids' }),
          'each block overrides some axes and adds its own product of cells',
        ),
      ),
      settings: Type.Optional(Settings),
    },
    {
      additionalProperties: false,
      $id: 'urn:pann:schema:pann-study-grid:1',
      title: 'pann study grid',
      description:
        'The cells of a precision study (pann study): the product of the axes, at the top level or per block, and the settings. ' +
        'Models and precisions are required at the top level or in every block, and a { from, to } range needs from ≤ to: ' +
        'checked in code on loading, which also fills in the defaults.',
    },
  ),
  { invalid: () => 'expected a JSON object', unknownField: () => `unknown field (known: ${TOP_FIELDS.join(', ')})` },
);

export type AxesJson = Static<typeof Block>;
export type SettingsJson = Static<typeof Settings>;
