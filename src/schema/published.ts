/**
 * A format's schema as a published JSON Schema file: the schema node itself (its `$id`, `title` and `description`
 * first), under draft-07's `$schema` (TypeBox writes tuples as `items: [...]` with `additionalItems: false`).
 * The notes that word messages are symbol-keyed and stay out.
 */
import type { TSchema } from '@sinclair/typebox';

const JSON_SCHEMA_DRAFT = 'http://json-schema.org/draft-07/schema#';

/** The text of the published file (2-space JSON and a final newline). */
export function publishedSchemaText(schema: TSchema): string {
  const { $id, title, description, ...rest } = JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;
  return `${JSON.stringify({ $schema: JSON_SCHEMA_DRAFT, $id, title, description, ...rest }, null, 2)}\n`;
}
