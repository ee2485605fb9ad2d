import { describe, expect, it } from 'vitest';
import { ServerError } from '../../src/errors.js';
import { compiledSchema } from '../../src/schema/index.js';
import { describeModel, parseModelDescription } from '../../src/server/model-description.js';
import { ModelDescriptionSchema, type ModelDescriptionJson } from '../../src/server/model-description-schema.js';
import { errorBody, parseKeyUpload } from '../../src/server/protocol.js';
import { ErrorBodySchema } from '../../src/server/protocol-schema.js';
import { denseCircuit } from './fixtures.js';

function envelope(header: unknown): Uint8Array {
  const h = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(16 + h.length + 3);
  out.set(new TextEncoder().encode('PANNKEYS'));
  const view = new DataView(out.buffer);
  view.setUint32(8, 1, true);
  view.setUint32(12, h.length, true);
  out.set(h, 16);
  return out;
}

describe('server JSON schemas', () => {
  const d = describeModel('dense', denseCircuit('dense', 16, 3, 4096));

  it('a description the server writes passes its schema', () => {
    expect(compiledSchema(ModelDescriptionSchema).Check(JSON.parse(JSON.stringify(d)))).toBe(true);
  });

  it('a structurally wrong description is a 502 naming the field', () => {
    const copy = JSON.parse(JSON.stringify(d)) as ModelDescriptionJson;
    copy.input.slots[0] = [0.5];
    expect(() => parseModelDescription(copy)).toThrow(
      new ServerError(502, 'bad_description', 'model description: input.slots[0][0]: expected an integer ≥ 0, got 0.5'),
    );
    copy.input.slots[0] = [0];
    (copy.predicted as Record<string, unknown>).latencyMs = 'fast';
    expect(() => parseModelDescription(copy)).toThrow(/^model description: predicted\.latencyMs: expected a finite number, got "fast"$/);
  });

  it('a key envelope header with a field of the wrong type is a 400 naming it', () => {
    expect(() => parseKeyUpload(envelope({ model: 'm', relinBytes: 3, galoisBytes: '0' }))).toThrow(
      /^key envelope: header field "galoisBytes" must be an integer ≥ 0, got "0"$/,
    );
  });

  it("the server's error body passes its schema", () => {
    expect(compiledSchema(ErrorBodySchema).Check(errorBody(new ServerError(400, 'bad_request', 'nope')))).toBe(true);
    expect(compiledSchema(ErrorBodySchema).Check({ error: { code: 'x' } })).toBe(false);
  });
});
