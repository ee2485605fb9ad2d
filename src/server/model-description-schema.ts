/**
 * The schema of a served model's description (GET /v1/models/:id), as the client checks it before making keys:
 * every field's type and fixed bounds. What depends on N (slot indices and list lengths below N/2, levels within
 * the chain, one prime per bit size, N a power of two, the input at the top level, distinct rotation steps) is
 * checked in code by model-description.ts after it. Messages read `model description: input.level: …`.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import {
  DecimalIntegerString,
  FIELD_STYLE,
  FiniteNumber,
  Integer,
  List,
  NonEmptyString,
  Pair,
  withNotes,
  type MessageStyle,
} from '../schema/index.js';

/** An absent top-level field is named under the root: `description.id: missing`. */
export const DESCRIPTION_STYLE: MessageStyle = { ...FIELD_STYLE, missingUnderRoot: true };

/** `expected an integer in a…b` (the bound below N/2 that only code knows is worded the same way). */
export function integerText(min: number, max?: number): string {
  return max === undefined ? `an integer ≥ ${min}` : `an integer in ${min}…${max}`;
}

const int = (min: number, max?: number) => Integer(max === undefined ? { min } : { min, max }, { expected: integerText(min, max) });
const finite = FiniteNumber();
const positive = FiniteNumber({ above: 0 }, { expected: 'a positive number' });

/** The message for a list longer than makes sense. */
export function tooLongText(length: number, max: number): string {
  return `${length} entries, at most ${max} make sense`;
}

/** A list of at most `max` items (a bound known only from N is checked in code); `short` words one with too few. */
function list<T extends TSchema>(item: T, max: number, min?: number, short?: string) {
  return List(item, { max, ...(min !== undefined ? { min } : {}) }, (n) => (n > max ? tooLongText(n, max) : (short ?? '')));
}

const name = NonEmptyString({ invalid: () => 'expected a non-empty string' }, 256);

const layout = {
  length: int(1),
  slots: Type.Array(List(int(0), { min: 1 }, () => 'no slot')),
  multiplier: finite,
  level: int(0),
  scale: positive,
  ciphertexts: int(1, 1),
};

/** A free relayout at a refresh round (to[i] may be empty: a value no later layer reads). */
const Relayout = Type.Object(
  {
    from: list(int(0), 65536),
    to: list(Type.Array(int(0)), 65536),
  },
  { description: 'the free relayout: value i read from masked slot from[i], written to fresh slots to[i] (others 0)' },
);

export const ModelDescriptionSchema = Type.Object(
  {
    id: name,
    name,
    model: name,
    params: Type.Object({
      polyModulusDegree: int(1024, 32768),
      coeffModulusBits: list(int(1, 60), 64, 2, 'at least two primes (one data prime and the special prime)'),
      primes: list(DecimalIntegerString({ invalid: () => 'expected a decimal integer string' }, 19), 64),
      scaleBits: int(1, 60),
      security: Type.Literal('tc128'),
    }),
    input: Type.Object({
      ...layout,
      range: Pair(finite, {
        invalid: (v) => (!Array.isArray(v) ? 'expected an array' : v.length > 2 ? tooLongText(v.length, 2) : 'expected [low, high]'),
      }),
    }),
    output: Type.Object(layout),
    rotationSteps: List(int(1), { unique: true }, () => 'repeated step'),
    rounds: Type.Optional(
      list(
        Type.Object(
          {
            ciphertexts: int(1, 4096),
            masked: list(Type.Object({ level: int(0), scale: positive }), 4096),
            fresh: Type.Object({ level: int(0), scale: positive }),
            relayout: Type.Optional(Relayout),
            relayouts: Type.Optional(
              Type.Array(Type.Union([Relayout, Type.Null()]), {
                maxItems: 4096,
                description: 'per ciphertext instead (a round carrying residual values too): its relayout, or null',
              }),
            ),
          },
          { description: 'one client-aided refresh round: masked ciphertexts sent, fresh ones (at fresh.level and fresh.scale) returned' },
        ),
        65536,
      ),
    ),
    activations: list(
      Type.Object({
        layer: int(0, 1e6),
        activation: withNotes(Type.String(), { invalid: () => 'expected a string' }),
        B: positive,
        precisionBits: finite,
        degree: list(int(0, 1e6), 64),
      }),
      1000,
    ),
    predicted: Type.Object({
      depth: finite,
      latencyMs: finite,
      seededCiphertextBytes: finite,
      outputCiphertextBytes: finite,
      relinKeyBytes: finite,
      galoisKeyBytes: finite,
      evaluationKeyUploadBytes: finite,
    }),
  },
  {
    $id: 'urn:pann:schema:pann-model-description:1',
    title: 'pann model description',
    description:
      'What the server tells a client about a served circuit (GET /v1/models/:id): CKKS parameters, input and output slot ' +
      'layouts, levels and scales, rotation steps and predicted sizes; nothing secret. Bounds that depend on N (slots, ' +
      'levels, lengths), one prime per bit size and distinct rotation steps are checked in code by the client.',
  },
);

export type ModelDescriptionJson = Static<typeof ModelDescriptionSchema>;
