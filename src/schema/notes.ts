/**
 * What a schema node says when a value is rejected. The notes sit on the node under a symbol key, so they travel
 * with the node through TypeBox's builders (which copy symbol keys) and stay out of the published JSON Schema
 * (JSON.stringify skips symbol keys): the published file is exactly the schema that validates.
 */
import type { TSchema } from '@sinclair/typebox';

export const NOTES = Symbol.for('pann.schema.notes');

export interface SchemaNotes {
  /**
   * What the node accepts, as a noun phrase ("an integer in 1..40"); the message style words it ("expected …, got
   * …" or "must be …, got …"). @default derived from the node (type, bounds, literal values)
   */
  expected?: string;
  /** The whole message for a rejected value (wins over `expected`). */
  invalid?: (got: unknown) => string;
  /** The message when this node is a required property that is absent. @default the style's */
  missing?: string;
  /** Object nodes: the message for a property the schema does not list. @default "unknown field (known: …)" */
  unknownField?: (key: string) => string;
  /** Object nodes: report a property the schema does not list before any other problem (a key envelope's secret key). */
  unknownFirst?: boolean;
  /** Array nodes: the message for an array of the wrong length or with an item twice. */
  length?: (length: number) => string;
  /** Report any error inside this node at the node itself, with its own message (a pair, a `{from, to}` range). */
  whole?: boolean;
  /**
   * Union nodes: which variant a value is meant to be (its `type` field, its opcode), so a message names the field
   * that is wrong inside that variant rather than the union. `variant` returns the variant's index, or `undefined`
   * when the value names none: then `unknownTag` words the message about the `tag` field (at that field when
   * `atTag`, else at the value), or, without a tag, the union's own wording applies.
   */
  select?: {
    variant: (value: unknown) => number | undefined;
    tag?: string | number;
    unknownTag?: (tag: unknown) => string;
    atTag?: boolean;
  };
}

/** The node's notes (empty when it has none). */
export function notesOf(schema: TSchema): SchemaNotes {
  return (schema as unknown as Record<symbol, SchemaNotes | undefined>)[NOTES] ?? {};
}

/** A copy of `schema` with `notes` added to the notes it has (the original node, possibly shared, is untouched). */
export function withNotes<T extends TSchema>(schema: T, notes: SchemaNotes): T {
  return { ...schema, [NOTES]: { ...notesOf(schema), ...notes } };
}
