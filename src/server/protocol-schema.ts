/**
 * The JSON parts of pann's inference API (v1): the header of the PANNKEYS key envelope (exactly three fields, so
 * no secret key can ride along), the headers of a refresh request (PANNRFSH) and its reply (PANNCONT), the error
 * body every 4xx/5xx answer carries, and the answer to opening a session.
 * The binary framing around the header is checked in protocol.ts.
 */
import { Type, type Static, type TProperties } from '@sinclair/typebox';
import { Described, FiniteNumber, Integer, NonEmptyString, shown, withNotes, type MessageStyle } from '../schema/index.js';

export const HEADER_FIELDS = ['model', 'relinBytes', 'galoisBytes'] as const;

/** Messages that name the field themselves: `key envelope: header field "model" must be a non-empty string`. */
export const ENVELOPE_STYLE: MessageStyle = {
  compose: (_path, text) => text,
  expected: (what, got) => `must be ${what}, got ${got}`,
};

const byteCount = (field: string) =>
  Integer({ min: 0, max: Number.MAX_SAFE_INTEGER }, { invalid: (v) => `header field "${field}" must be an integer ≥ 0, got ${shown(v)}` });

/**
 * The header of a PANN envelope: exactly `properties` (published as urn:pann:schema:`name`:1); another field is
 * named as unknown, with `allowed` saying what may be there.
 */
function envelopeHeader<P extends TProperties>(properties: P, name: string, title: string, description: string, allowed: string) {
  return withNotes(Type.Object(properties, { additionalProperties: false, $id: `urn:pann:schema:${name}:1`, title, description }), {
    invalid: () => 'header must be a JSON object',
    unknownFirst: true,
    unknownField: (key) => `unknown header field ${JSON.stringify(key)} (${allowed})`,
  });
}

export const KeyEnvelopeHeaderSchema = envelopeHeader(
  {
    model: NonEmptyString({ invalid: () => 'header field "model" must be a non-empty string' }),
    relinBytes: Described(byteCount('relinBytes'), 'bytes of relinearisation keys after the header (> 0)'),
    galoisBytes: Described(byteCount('galoisBytes'), 'bytes of Galois keys after those (0: the model rotates nothing)'),
  },
  'pann-key-envelope-header',
  'pann key envelope header',
  'The JSON header of a PANNKEYS key envelope (POST /v1/sessions): the model and the byte lengths of the evaluation keys ' +
    'that follow it. Exactly these fields: there is none through which a secret key could be sent. The binary framing ' +
    '(magic, version, header length, lengths adding up to the body) is checked in code.',
  `allowed: ${HEADER_FIELDS.join(', ')}; only evaluation keys are accepted`,
);

const ROUND_FIELDS = ['token', 'round', 'rounds', 'ciphertexts', 'level', 'scale'] as const;

/** A continuation token: base64url of a versioned record and its HMAC tag (src/server/continuation.ts). */
const token = Described(
  withNotes(Type.String({ pattern: '^[A-Za-z0-9_-]{1,512}$' }), {
    invalid: () => 'header field "token" must be a base64url string of 1…512 characters',
  }),
  'opaque continuation token, valid once, for this session only, until it expires',
);

const headerInteger = (field: string, min: number, max: number, description: string) =>
  Described(
    Integer({ min, max }, { invalid: (v) => `header field "${field}" must be an integer in ${min}…${max}, got ${shown(v)}` }),
    description,
  );

export const RefreshRequestHeaderSchema = envelopeHeader(
  {
    token,
    round: headerInteger('round', 0, 65535, 'this round (0 = the first)'),
    rounds: headerInteger('rounds', 1, 65536, 'rounds in the circuit'),
    ciphertexts: headerInteger('ciphertexts', 1, 4096, 'masked ciphertexts after the header'),
    level: headerInteger('level', 0, 64, 'the level to encrypt the fresh ciphertexts at (the top of the chain)'),
    scale: Described(
      FiniteNumber({ above: 0 }, { invalid: (v) => `header field "scale" must be a positive number, got ${shown(v)}` }),
      'the exact scale to encode them at',
    ),
  },
  'pann-refresh-request-header',
  'pann refresh request header',
  'The JSON header of a PANNRFSH envelope: the answer of POST /v1/sessions/:id/infer (or …/infer/continue) when the ' +
    'evaluation reached a client-aided refresh round. The masked ciphertexts follow it; the key holder decrypts them, ' +
    'encrypts the values afresh at `level` and `scale`, and sends them with the token to …/infer/continue.',
  `known: ${ROUND_FIELDS.join(', ')}`,
);

export type RefreshRequestHeader = Static<typeof RefreshRequestHeaderSchema>;

export const RefreshReplyHeaderSchema = envelopeHeader(
  { token },
  'pann-refresh-reply-header',
  'pann refresh reply header',
  'The JSON header of a PANNCONT envelope (POST /v1/sessions/:id/infer/continue): the continuation token of the refresh ' +
    'request it answers. The fresh ciphertexts follow it.',
  `a refresh reply's header holds only "token"`,
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
