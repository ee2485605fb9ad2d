import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import {
  Base64,
  FIELD_STYLE,
  FiniteNumber,
  Integer,
  OneOf,
  Pair,
  Tagged,
  checkSchema,
  compiledSchema,
  decodeBase64Values,
  describe as describeNode,
  fieldError,
  publishedSchemaText,
  shown,
  withNotes,
  type CheckOptions,
  type MessageStyle,
} from '../../src/schema/index.js';

const options: CheckOptions = { error: (m) => new InputError(m), source: 'f.json', root: 'file' };

function message(schema: Parameters<typeof checkSchema>[0], value: unknown, o: CheckOptions = options): string {
  try {
    checkSchema(schema, value, o);
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    return (err as Error).message;
  }
  return 'accepted';
}

const Layer = Tagged(
  'type',
  [
    Type.Object({ type: Type.Literal('dense'), size: Integer({ min: 1 }) }),
    Type.Object({ type: Type.Literal('pool'), kernel: Pair(Integer({ min: 0 }), { whole: true, expected: '[height, width]' }) }),
  ],
  { unknownTag: (t) => `unknown layer type ${shown(t)}`, notes: { invalid: () => 'expected an object' } },
);

const File = Type.Object({
  format: Type.Literal('f'),
  name: Type.String(),
  count: Integer({ min: 1, max: 10 }),
  scale: FiniteNumber({ above: 0 }),
  mode: Type.Optional(OneOf(['a', 'b'])),
  layers: Type.Array(Layer),
});

const good = { format: 'f', name: 'n', count: 3, scale: 0.5, layers: [{ type: 'dense', size: 2 }] };

describe('checkSchema', () => {
  it('accepts a matching value and narrows its type', () => {
    const v: unknown = structuredClone(good);
    checkSchema(File, v, options);
    expect(v.layers[0]!.type).toBe('dense');
  });

  it('names the file, the field path and what was expected and got', () => {
    expect(message(File, { ...good, count: 11 })).toBe('f.json: count: expected an integer in 1..10, got 11');
    expect(message(File, { ...good, scale: 0 })).toBe('f.json: scale: expected a number > 0, got 0');
    expect(message(File, { ...good, mode: 'c' })).toBe('f.json: mode: expected one of "a", "b", got "c"');
    expect(message(File, { ...good, layers: [good.layers[0], { type: 'dense', size: 'x' }] })).toBe(
      'f.json: layers[1].size: expected an integer ≥ 1, got "x"',
    );
    // an object or array of the wrong type is not quoted back (it may be megabytes)
    expect(message(File, 5)).toBe('f.json: file: expected an object');
    expect(message(File, { ...good, layers: {} })).toBe('f.json: layers: expected an array');
    expect(message(Type.Object({ a: Type.Array(Type.Number(), { minItems: 2 }) }), { a: [1] })).toBe(
      'f.json: a: expected an array of at least 2 items, got 1 item',
    );
  });

  it('reports the first wrong field in schema order, a missing one included', () => {
    const noName: Partial<typeof good> = { ...good };
    delete noName.name;
    expect(message(File, { ...noName, format: 'g' })).toBe('f.json: format: expected "f", got "g"');
    expect(message(File, { ...noName, count: 0 })).toBe('f.json: name: missing');
  });

  it('follows the tag of a tagged union into its variant', () => {
    expect(message(File, { ...good, layers: [{ type: 'pool', kernel: [1, -1] }] })).toBe(
      'f.json: layers[0].kernel: expected [height, width], got [1,-1]',
    );
    expect(message(File, { ...good, layers: [{ type: 'lstm' }] })).toBe('f.json: layers[0].type: unknown layer type "lstm"');
    expect(message(File, { ...good, layers: [{}] })).toBe('f.json: layers[0].type: missing');
    expect(message(File, { ...good, layers: [7] })).toBe('f.json: layers[0]: expected an object');
  });

  it('picks the variant of a plain union by the type of the value', () => {
    const S = Type.Object({ m: Type.Union([Type.String({ minLength: 1 }), Type.Object({ path: Type.String({ minLength: 1 }) })]) });
    expect(message(S, { m: { path: '' } })).toBe('f.json: m.path: expected a non-empty string, got ""');
    expect(message(S, { m: 5 })).toBe('f.json: m: expected a non-empty string or an object, got 5');
  });

  it('words messages in the style of the format, with per-node wording', () => {
    const style: MessageStyle = { compose: (p, t) => (p ? `field '${p}' ${t}` : t), expected: (w, g) => `must be ${w}, got ${g}` };
    const S = Type.Object({ a: Integer({ min: 0 }), b: withNotes(Type.String(), { invalid: () => 'must be text' }) });
    expect(message(S, { a: -1, b: 'x' }, { ...options, style })).toBe("f.json: field 'a' must be a non-negative integer, got -1");
    expect(message(S, { a: 1 }, { ...options, style })).toBe("f.json: field 'b' must be text");
    expect(fieldError({ ...options, style }, 'a', 'is odd').message).toBe("f.json: field 'a' is odd");
    expect(fieldError(options, '', 'is empty').message).toBe('f.json: file: is empty');
  });

  it('names unknown fields, first when the schema says so', () => {
    const S = withNotes(Type.Object({ a: Type.Number() }, { additionalProperties: false }), { unknownFirst: true });
    expect(message(S, { b: 1 })).toBe('f.json: b: unknown field (known: a)');
    expect(message(Type.Object({ a: Type.Number() }, { additionalProperties: false }), { a: 'x', b: 1 })).toBe(
      'f.json: a: expected a finite number, got "x"',
    );
  });

  it('compiles each schema once', () => {
    expect(compiledSchema(File)).toBe(compiledSchema(File));
    expect(compiledSchema(File).Check(good)).toBe(true);
  });

  it('shortens long values in messages', () => {
    expect(shown('x'.repeat(1000)).length).toBeLessThan(210);
    expect(shown(undefined)).toBe('undefined');
  });

  it('describes nodes it has no notes for', () => {
    expect(describeNode(FiniteNumber({ min: 0, below: 1 }))).toBe('a number in [0, 1)');
    expect(describeNode(Integer())).toBe('an integer');
    expect(FIELD_STYLE.expected('x', '1')).toBe('expected x, got 1');
  });
});

describe('base64 values', () => {
  it('decodes little-endian int32, float32 (widened) and float64, and reports a partial element', () => {
    expect(Array.from(decodeBase64Values(Buffer.from(Int32Array.of(1, -2).buffer).toString('base64'), 'int32').values!)).toEqual([1, -2]);
    expect(Array.from(decodeBase64Values(Buffer.from(Float32Array.of(0.5).buffer).toString('base64'), 'float32').values!)).toEqual([0.5]);
    expect(Array.from(decodeBase64Values(Buffer.from(Float64Array.of(0.1).buffer).toString('base64'), 'float64').values!)).toEqual([0.1]);
    expect(decodeBase64Values('AAAA', 'float64')).toEqual({ byteLength: 3, values: undefined });
  });

  it('accepts padded base64 only when asked to', () => {
    expect(compiledSchema(Base64()).Check('AAA')).toBe(false);
    expect(compiledSchema(Base64({}, false)).Check('AAA')).toBe(true);
    expect(compiledSchema(Base64()).Check('AAA=')).toBe(true);
  });
});

describe('published schema', () => {
  it('is the schema as JSON Schema, without the notes that word messages', () => {
    const S = withNotes(Type.Object({ a: Integer({ min: 0 }, { invalid: () => 'no' }) }, { $id: 'urn:x', title: 'X', description: 'd' }), {
      invalid: () => 'no',
    });
    const json = JSON.parse(publishedSchemaText(S)) as Record<string, unknown>;
    expect(Object.keys(json).slice(0, 4)).toEqual(['$schema', '$id', 'title', 'description']);
    expect(json.properties).toEqual({ a: { type: 'integer', minimum: 0 } });
  });
});
