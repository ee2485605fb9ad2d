/**
 * The schema of a training recipe file (format "pann-recipe", version 1): the fields `pann train <recipe.json>`
 * reads, each with the bounds training needs. Defaults are filled in by recipes.ts. Messages read
 * `r.json: epochs: bad value -1`.
 */
import { Type } from '@sinclair/typebox';
import { FiniteNumber, Integer, NonEmptyString, OneOf, shown, withNotes, type NumberBounds } from '../schema/index.js';
import { OPTIMIZER_NAMES } from './optimizer.js';
import { SCHEDULE_NAMES } from './schedule.js';

export const RECIPE_FORMAT = 'pann-recipe';
export const RECIPE_VERSION = 1;

const badValue = (v: unknown) => `bad value ${shown(v)}`;
const int = (min?: number) => Integer(min === undefined ? {} : { min }, { invalid: badValue });
const num = (bounds: NumberBounds) => FiniteNumber(bounds, { invalid: badValue });
const oneOf = <const V extends readonly string[]>(values: V) => OneOf(values, { invalid: () => `expected one of ${values.join(', ')}` });
const nonNegative = Type.Optional(FiniteNumber({ min: 0 }, { invalid: () => 'expected a number ≥ 0' }));

export const RecipeSchema = withNotes(
  Type.Object(
    {
      format: Type.Literal(RECIPE_FORMAT),
      version: withNotes(Type.Literal(RECIPE_VERSION), { invalid: (v) => `this pann reads version ${RECIPE_VERSION}, got ${shown(v)}` }),
      name: NonEmptyString({ invalid: () => 'expected a non-empty string' }),
      description: Type.Optional(Type.String()),
      dataset: Type.Optional(withNotes(Type.Literal('mnist'), { invalid: (v) => `only "mnist" is supported, got ${shown(v)}` })),
      architecture: NonEmptyString({ invalid: () => 'expected a non-empty string' }),
      activation: Type.Optional(Type.String({ description: 'activation spec of the `act` layers. @default "relu"' })),
      epochs: int(1),
      batchSize: Type.Optional(int(1)),
      optimizer: Type.Optional(oneOf(OPTIMIZER_NAMES)),
      learningRate: Type.Optional(num({ above: 0 })),
      momentum: Type.Optional(num({ min: 0, below: 1 })),
      weightDecay: Type.Optional(num({ min: 0 })),
      schedule: Type.Optional(
        Type.Object({ name: Type.Optional(oneOf(SCHEDULE_NAMES)) }, { description: 'learning-rate schedule (src/nn/schedule.ts)' }),
      ),
      mixupAlpha: Type.Optional(num({ min: 0 })),
      augment: Type.Optional(Type.Object({ shift: nonNegative, rotate: nonNegative, scale: nonNegative })),
      patience: Type.Optional(int(0)),
      seed: Type.Optional(int()),
      notes: Type.Optional(Type.String()),
    },
    {
      $id: 'urn:pann:schema:pann-recipe:1',
      title: 'pann training recipe',
      description:
        'Everything pann train needs to rebuild a model from scratch: architecture, activation, data, optimiser settings and seed. ' +
        'Absent fields take the defaults in src/nn/recipes.ts.',
    },
  ),
  { invalid: () => 'expected a JSON object' },
);
