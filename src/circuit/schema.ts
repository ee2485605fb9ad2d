/**
 * The schema of the circuit file (format "pann-circuit", version 1): every field's type and fixed bounds. What
 * depends on other fields (registers < registerCount, plaintext levels within the chain, the primes SEAL picks,
 * the 128-bit modulus bound, layout slots, array lengths, the replay of every op) is checked by file.ts after it.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import {
  Base64,
  DecimalIntegerString,
  Described,
  FiniteNumber,
  Integer,
  List,
  OneOf,
  Pair,
  Tagged,
  shown,
  withNotes,
  type SchemaNotes,
} from '../schema/index.js';

export const CIRCUIT_FORMAT = 'pann-circuit';
export const CIRCUIT_VERSION = 1;

export const OPCODES = ['rotate', 'mulPlain', 'addPlain', 'mul', 'add', 'sub', 'rescale', 'drop', 'setScale', 'refresh'] as const;

/** The message for an integer outside [min, max] (or below min). */
export function outsideText(v: number, min: number, max?: number): string {
  return max === undefined ? `${v} is below ${min}` : `${v} is outside ${min}..${max}`;
}

function int(min: number, max?: number): ReturnType<typeof Integer> {
  return Integer(max === undefined ? { min } : { min, max }, {
    invalid: (v) => (Number.isInteger(v) ? outsideText(v as number, min, max) : `expected an integer, got ${shown(v)}`),
  });
}

const positive = FiniteNumber(
  { above: 0 },
  { invalid: (v) => (Number.isFinite(v) ? `expected a positive number, got ${String(v)}` : `expected a finite number, got ${shown(v)}`) },
);
const finite = FiniteNumber();
const base64 = Base64({ invalid: () => 'expected base64 data' }, false);

/** A register index (its bound, registerCount, is checked in code). */
const register = int(0);

const layout = Type.Object({
  length: int(1, 1 << 24),
  slots: Described(
    Type.Array(List(int(0), { min: 1 }, () => 'no slot')),
    'for each logical value, the slots (latency mode) or registers (throughput mode) holding it; each at most once',
  ),
});

const sha256 = Type.String({ pattern: '^[0-9a-f]{64}$', description: 'SHA-256, 64 lower-case hex digits' });
const text = Type.String({ maxLength: 4096 });
const Source = Type.Object({
  model: Type.Object({
    name: text,
    sha256: Described(sha256, 'of the layers, shapes and weights at float64 (not the name or metadata)'),
    path: Type.Optional(Described(text, "the model file, relative to the circuit file's folder")),
  }),
  calibration: Type.Object({ label: text, count: int(1), sha256: Described(sha256, 'of the calibration inputs, float64 little-endian') }),
});

const op = <const N extends string, T extends TSchema[]>(name: N, shape: string, ...args: [...T]) =>
  withNotes(Type.Tuple([Type.Literal(name), ...args]), { expected: `["${name}", ${shape}]` } satisfies SchemaNotes);

const Op = Tagged(
  0,
  [
    op('rotate', 'dst, src, steps', register, register, int(1, 1 << 20)),
    op('mulPlain', 'dst, src, plaintext', register, register, int(0)),
    op('addPlain', 'dst, src, plaintext', register, register, int(0)),
    op('mul', 'dst, a, b', register, register, register),
    op('add', 'dst, a, b', register, register, register),
    op('sub', 'dst, a, b', register, register, register),
    op('rescale', 'dst, src', register, register),
    op('drop', 'dst, src, level', register, register, int(0, 1000)),
    op('setScale', 'dst, src, scale', register, register, positive),
    op('refresh', 'dst, src, maskBound', register, register, Described(positive, 'masks are uniform on [−maskBound, maskBound]')),
  ],
  {
    unknownTag: (name) => `unknown op ${shown(name)} (valid: ${OPCODES.join(', ')})`,
    atTag: false,
    notes: { invalid: () => 'expected an array' },
  },
);

const Plaintext = withNotes(
  Type.Union([
    Type.Object({ level: int(0), scale: positive, constant: Described(finite, 'the value in every slot') }),
    Type.Object({
      level: int(0),
      scale: positive,
      indices: Described(base64, 'slot indices, int32 little-endian, ascending'),
      values: Described(base64, 'the values at those slots, float64 little-endian'),
      constant: Type.Optional(Type.Never()),
    }),
  ]),
  {
    invalid: () => 'expected an object',
    select: {
      variant: (v) =>
        v !== null && typeof v === 'object' && !Array.isArray(v)
          ? (v as { constant?: unknown }).constant !== undefined
            ? 0
            : 1
          : undefined,
    },
  },
);

export const CircuitSchema = Type.Object(
  {
    format: withNotes(Type.Literal(CIRCUIT_FORMAT), {
      invalid: (v) => `expected "${CIRCUIT_FORMAT}", got ${shown(v)} (is this a pann circuit?)`,
    }),
    version: withNotes(Type.Literal(CIRCUIT_VERSION), {
      invalid: (v) => `this pann reads circuit version ${CIRCUIT_VERSION}, the file is version ${shown(v)}; recompile it`,
    }),
    name: withNotes(Type.String(), { invalid: () => 'expected a string' }),
    mode: Type.Optional(
      Described(
        OneOf(['latency', 'throughput'], { invalid: (v) => `expected "latency" or "throughput", got ${shown(v)}` }),
        'latency: one input per evaluation; throughput: one input per slot. @default "latency"',
      ),
    ),
    params: Type.Object({
      polyModulusDegree: Described(int(1024, 32768), 'N, the ring dimension (a power of two with a 128-bit bound)'),
      coeffModulusBits: Described(
        List(int(14, 60), { min: 2 }, () => 'needs at least a data prime and the special prime'),
        'bit sizes of the primes',
      ),
      primes: Described(
        Type.Array(DecimalIntegerString({ invalid: () => 'expected a decimal string' })),
        'the primes SEAL picks for these bit sizes, exact',
      ),
      primeValues: Type.Optional(Type.Unknown({ description: 'the primes as JSON numbers (rounded; informational, not read)' })),
      scaleBits: Described(int(14, 60), 'the default scale is 2^scaleBits'),
    }),
    inputScale: positive,
    inputLayout: layout,
    inputMultiplier: Described(finite, 'raw inputs are multiplied by this before encoding'),
    inputRange: Described(
      Pair(finite, { invalid: (v) => (Array.isArray(v) ? `expected [low, high], got ${shown(v)}` : 'expected an array') }),
      'calibrated range of raw inputs',
    ),
    outputRegister: register,
    outputLayout: layout,
    outputRegisters: Type.Optional(Described(Type.Array(register), 'registers the evaluation returns. @default [outputRegister]')),
    outputMultiplier: Described(finite, 'decoded outputs are multiplied by this to give the logits'),
    registerCount: int(1, 1 << 24),
    registerLevel: Described(base64, 'the level of every register, int32 little-endian'),
    registerScale: Described(base64, 'the scale of every register, float64 little-endian'),
    rotationSteps: Described(Type.Array(int(1)), 'the normalised rotation steps the Galois keys cover (each below N/2)'),
    plaintexts: Type.Array(Plaintext),
    ops: Described(Type.Array(Op), 'the program: each op writes its dst register once'),
    relayouts: Type.Optional(
      Described(
        Type.Array(
          Type.Object({
            round: Described(int(0), 'the refresh round (0-based, in op order)'),
            ciphertext: Type.Optional(Described(int(0), "the round's ciphertext it applies to (absent: every one)")),
            from: Described(Type.Array(int(0)), 'for each logical value, the masked slot the key holder reads it from'),
            to: Described(Type.Array(Type.Array(int(0))), 'for each logical value, the fresh slots it is written to (others are 0)'),
          }),
        ),
        'free relayouts at refresh rounds (checked against the rounds and slots in code)',
      ),
    ),
    stages: Described(Type.Array(Type.Unknown()), 'per-layer op ranges (informational)'),
    report: Type.Object({}, { description: "the compiler's report (informational)" }),
    source: Type.Optional(Described(Source, 'the model and calibration data the circuit was compiled from')),
  },
  {
    $id: 'urn:pann:schema:pann-circuit:1',
    title: 'pann circuit',
    description:
      'A compiled CKKS circuit (pann compile): parameters, layouts, register levels and scales, plaintexts and the op list. ' +
      'Typed arrays are base64 of little-endian values. Checks across fields (registers < registerCount, levels, primes, ' +
      'layout slots, lengths, the replay of every op) are made in code on loading.',
  },
);

export type CircuitJson = Static<typeof CircuitSchema>;
export type CircuitOpJson = Static<typeof Op>;
