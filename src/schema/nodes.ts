/**
 * Schema nodes every pann file format uses: bounded integers, finite numbers, numbers and integers written as
 * decimal strings, base64 data, `[a, b]` pairs, string enums and tagged unions. Each is a plain TypeBox node (so
 * JSON Schema, publishable as is) with optional notes that word its messages (notes.ts).
 */
import {
  Type,
  type TArray,
  type TInteger,
  type TLiteral,
  type TNumber,
  type TSchema,
  type TString,
  type TTuple,
  type TUnion,
} from '@sinclair/typebox';
import { withNotes, type SchemaNotes } from './notes.js';

/** Bounds of a number; `above`/`below` are exclusive. */
export interface NumberBounds {
  min?: number;
  max?: number;
  above?: number;
  below?: number;
}

/** An integer, optionally within [min, max]. */
export function Integer(bounds: { min?: number; max?: number } = {}, notes: SchemaNotes = {}): TInteger {
  return withNotes(
    Type.Integer({
      ...(bounds.min !== undefined ? { minimum: bounds.min } : {}),
      ...(bounds.max !== undefined ? { maximum: bounds.max } : {}),
    }),
    notes,
  );
}

/**
 * A finite number within the bounds. JSON numbers are finite, but JSON.parse turns 1e999 into Infinity: TypeBox's
 * number check rejects NaN and ±Infinity.
 */
export function FiniteNumber(bounds: NumberBounds = {}, notes: SchemaNotes = {}): TNumber {
  const { min, max, above, below } = bounds;
  return withNotes(
    Type.Number({
      ...(min !== undefined ? { minimum: min } : {}),
      ...(max !== undefined ? { maximum: max } : {}),
      ...(above !== undefined ? { exclusiveMinimum: above } : {}),
      ...(below !== undefined ? { exclusiveMaximum: below } : {}),
    }),
    notes,
  );
}

/** A string of at least one character (and at most `maxLength`). */
export function NonEmptyString(notes: SchemaNotes = {}, maxLength?: number): TString {
  return withNotes(Type.String({ minLength: 1, ...(maxLength !== undefined ? { maxLength } : {}) }), notes);
}

/**
 * A non-negative integer written as decimal digits (a CKKS prime: more digits than a double holds exactly).
 * `maxDigits`: at most that many digits and no leading zero. @default any number of digits
 */
export function DecimalIntegerString(notes: SchemaNotes = {}, maxDigits?: number): TString {
  const pattern = maxDigits === undefined ? '^[0-9]+$' : `^[1-9][0-9]{0,${maxDigits - 1}}$`;
  return withNotes(Type.String({ pattern }), notes);
}

/** A number written as a decimal string (`String(x)` of a double: "-0.125", "3.5e-7"); finiteness is checked on reading. */
export function DecimalNumberString(notes: SchemaNotes = {}): TString {
  return withNotes(Type.String({ pattern: '^[+-]?(?:[0-9]+\\.?[0-9]*|\\.[0-9]+)(?:[eE][+-]?[0-9]+)?$' }), notes);
}

const BASE64_PADDED = '^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$';
const BASE64_LOOSE = '^[A-Za-z0-9+/]*={0,2}$';

/**
 * Binary data as a base64 string (little-endian values; decodeBase64Values reads it). `padded`: whole 4-character
 * groups, as Buffer writes them; otherwise any run of base64 characters with up to two '=' at the end. @default true
 */
export function Base64(notes: SchemaNotes = {}, padded = true): TString {
  return withNotes(Type.String({ contentEncoding: 'base64', pattern: padded ? BASE64_PADDED : BASE64_LOOSE }), notes);
}

/** A list of `item`s, within the bounds; `length` words a list of the wrong length (or with an item twice). */
export function List<T extends TSchema>(
  item: T,
  bounds: { min?: number; max?: number; unique?: boolean } = {},
  length?: (length: number) => string,
): TArray<T> {
  const { min, max, unique } = bounds;
  return withNotes(
    Type.Array(item, {
      ...(min !== undefined ? { minItems: min } : {}),
      ...(max !== undefined ? { maxItems: max } : {}),
      ...(unique ? { uniqueItems: true } : {}),
    }),
    length ? { length } : {},
  );
}

/** `[a, b]`: two values of the same schema. */
export function Pair<T extends TSchema>(item: T, notes: SchemaNotes = {}): TTuple<[T, T]> {
  return withNotes(Type.Tuple([item, item]), notes);
}

/** One of the strings `values` (a union of literals; "one of …" in messages). */
export function OneOf<const V extends readonly string[]>(values: V, notes: SchemaNotes = {}): TUnion<TLiteral<V[number]>[]> {
  return withNotes(Type.Union(values.map((v) => Type.Literal(v as V[number]))), notes);
}

export interface TaggedOptions {
  /** The message for a tag that names no variant (or is absent, when the style has no "missing" wording). */
  unknownTag: (tag: unknown) => string;
  /** Name the tag field in that message (`layers[6].type`) rather than the value (`ops[3]`). @default true */
  atTag?: boolean;
  /** Wording for a value that is not an object (or array) at all. */
  notes?: SchemaNotes;
}

/** The literal value of `variant`'s tag field (a property of an object, an element of a tuple). */
function tagOf(variant: TSchema, tag: string | number): unknown {
  const field =
    typeof tag === 'number' ? (variant.items as TSchema[] | undefined)?.[tag] : (variant.properties as Record<string, TSchema>)[tag];
  return field?.const;
}

/**
 * A union whose variants are told apart by one field holding a literal: `type` of a model layer, element 0 (the
 * opcode) of a circuit op. A value is checked against the variant its tag names, and its messages name the field
 * that is wrong in that variant.
 */
export function Tagged<const T extends TSchema[]>(tag: string | number, variants: [...T], options: TaggedOptions): TUnion<T> {
  const byTag = new Map(variants.map((v, i) => [tagOf(v, tag), i]));
  const variant = (value: unknown): number | undefined =>
    value !== null && typeof value === 'object' ? byTag.get((value as Record<string | number, unknown>)[tag]) : undefined;
  return withNotes(Type.Union(variants) as TUnion<T>, {
    ...options.notes,
    select: { variant, tag, unknownTag: options.unknownTag, atTag: options.atTag ?? true },
  });
}

/** A copy of `schema` with a JSON Schema `description` (documentation in the published file). */
export function Described<T extends TSchema>(schema: T, description: string): T {
  return { ...schema, description };
}
