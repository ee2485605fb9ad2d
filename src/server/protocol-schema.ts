/**
 * The JSON parts of pann's inference API (v1): the header of the PANNKEYS key envelope (exactly three fields, so
 * no secret key can ride along), the error body every 4xx/5xx answer carries, and the answer to opening a session.
 * The binary framing around the header is checked in protocol.ts.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Described, Integer, NonEmptyString, shown, withNotes, type MessageStyle } from '../schema/index.js';

export const HEADER_FIELDS = ['model', 'relinBytes', 'galoisBytes'] as const;

/** Messages that name the field themselves: `key envelope: header field "model" must be a non-empty string`. */
export const ENVELOPE_STYLE: MessageStyle = {
  compose: (_path, text) => text,
  expected: (what, got) => `must be ${what}, got ${got}`,
};

const byteCount = (field: string) =>
  Integer({ min: 0, max: Number.MAX_SAFE_INTEGER }, { invalid: (v) => `header field "${field}" must be an integer ≥ 0, got ${shown(v)}` });

export const KeyEnvelopeHeaderSchema = withNotes(
  Type.Object(
    {
      model: NonEmptyString({ invalid: () => 'header field "model" must be a non-empty string' }),
      relinBytes: Described(byteCount('relinBytes'), 'bytes of relinearisation keys after the header (> 0)'),
      galoisBytes: Described(byteCount('galoisBytes'), 'bytes of Galois keys after those (0: the model rotates nothing)'),
    },
    {
      additionalProperties: false,
      $id: 'urn:pann:schema:pann-key-envelope-header:1',
      title: 'pann key envelope header',
      description:
        'The JSON header of a PANNKEYS key envelope (POST /v1/sessions): the model and the byte lengths of the evaluation keys ' +
        'that follow it. Exactly these fields: there is none through which a secret key could be sent. The binary framing ' +
        '(magic, version, header length, lengths adding up to the body) is checked in code.',
    },
  ),
  {
    invalid: () => 'header must be a JSON object',
    unknownFirst: true,
    unknownField: (key) =>
      `unknown header field ${JSON.stringify(key)} (allowed: ${HEADER_FIELDS.join(', ')}; only evaluation keys are accepted)`,
  },
);

export const ErrorBodySchema = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'machine-readable, e.g. "bad_ciphertext" (docs/server.md)' }),
      message: Type.String(),
    }),
  },
  {
    $id: 'urn:pann:schema:pann-error-body:1',
    title: 'pann API error',
    description: 'The body of every 4xx/5xx answer of the pann server.',
  },
);

/** The answer to POST /v1/sessions. */
export const SessionOpenedSchema = Type.Object({ session: Type.String() });

export type ErrorBody = Static<typeof ErrorBodySchema>;
