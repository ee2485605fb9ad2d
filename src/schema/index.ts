/**
 * The schema layer every pann file format is checked with: TypeBox nodes (JSON Schema) with notes that word their
 * messages, one checker that throws the format's own error naming the file and the field, base64 decoding, and
 * the published form of a schema. Imports only TypeBox.
 */
export { decodeBase64Values, ELEMENT_BYTES } from './base64.js';
export {
  checkSchema,
  compiledSchema,
  describe,
  fieldError,
  FIELD_STYLE,
  FIELD_STYLE_GOT_UNDEFINED,
  shown,
  type CheckOptions,
  type MessageStyle,
} from './check.js';
export {
  Base64,
  Described,
  DecimalIntegerString,
  DecimalNumberString,
  FiniteNumber,
  Integer,
  List,
  NonEmptyString,
  OneOf,
  Pair,
  Tagged,
  type NumberBounds,
} from './nodes.js';
export { withNotes, type SchemaNotes } from './notes.js';
export { publishedSchemaText } from './published.js';
