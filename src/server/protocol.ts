/**
 * The wire formats of pann's inference API (v1), shared by the server and the client. Binary bodies are plain
 * SEAL serializations, so nothing but ciphertexts and evaluation keys can be expressed:
 *
 * - Session upload (POST /v1/sessions, application/octet-stream): the key envelope
 *     bytes 0–7   ASCII "PANNKEYS"
 *     bytes 8–11  u32 LE envelope version (1)
 *     bytes 12–15 u32 LE length H of the header (1 … 4096)
 *     H bytes     UTF-8 JSON { "model": id, "relinBytes": n, "galoisBytes": m } — exactly these fields
 *     n bytes     relinearisation keys, SEAL format (seeded form accepted)
 *     m bytes     Galois keys, SEAL format (seeded form accepted); m = 0 when the model rotates nothing
 *   and nothing after. There is no field, and no route, through which a secret key could be sent.
 * - Inference (POST /v1/sessions/:id/infer, application/octet-stream, both ways): SEAL-serialized ciphertexts
 *   back to back; each starts with SEAL's 16-byte header whose u64 size field (bytes 8–15) delimits it.
 * - Errors: JSON { "error": { "code", "message" } } with a 4xx/5xx status.
 */
import { ServerError } from '../errors.js';
import { checkSchema } from '../schema/index.js';
import { ENVELOPE_STYLE, KeyEnvelopeHeaderSchema, type ErrorBody } from './protocol-schema.js';

export type { ErrorBody } from './protocol-schema.js';

export const API_PREFIX = '/v1';
export const KEYS_MAGIC = 'PANNKEYS';
export const KEYS_VERSION = 1;
export const KEYS_PREFIX_BYTES = 16;
export const KEYS_MAX_HEADER_BYTES = 4096;
const SEAL_MAGIC = 0xa15e;
const SEAL_HEADER_BYTES = 16;

/** What the client uploads to open a session. */
export interface KeyUpload {
  model: string;
  relin: Uint8Array;
  /** Empty when the model rotates nothing. */
  galois: Uint8Array;
}

function bad(message: string): ServerError {
  return new ServerError(400, 'bad_request', message);
}

/** Encode a key upload in the PANNKEYS envelope. */
export function encodeKeyUpload(upload: KeyUpload): Uint8Array {
  const header = new TextEncoder().encode(
    JSON.stringify({ model: upload.model, relinBytes: upload.relin.length, galoisBytes: upload.galois.length }),
  );
  const out = new Uint8Array(KEYS_PREFIX_BYTES + header.length + upload.relin.length + upload.galois.length);
  const view = new DataView(out.buffer);
  out.set(new TextEncoder().encode(KEYS_MAGIC), 0);
  view.setUint32(8, KEYS_VERSION, true);
  view.setUint32(12, header.length, true);
  out.set(header, KEYS_PREFIX_BYTES);
  out.set(upload.relin, KEYS_PREFIX_BYTES + header.length);
  out.set(upload.galois, KEYS_PREFIX_BYTES + header.length + upload.relin.length);
  return out;
}

/**
 * Parse a PANNKEYS envelope (views into `bytes`, no copies). Throws a ServerError (400 bad_request) naming the
 * first thing that is wrong: magic, version, header length, header JSON, an unknown or missing field, lengths
 * that do not add up to the body.
 */
export function parseKeyUpload(bytes: Uint8Array): KeyUpload {
  if (bytes.length === 0) throw bad('empty body: expected a PANNKEYS key envelope');
  if (bytes.length < KEYS_PREFIX_BYTES)
    throw bad(`key envelope: ${bytes.length} bytes is shorter than its ${KEYS_PREFIX_BYTES}-byte prefix`);
  const magic = new TextDecoder().decode(bytes.subarray(0, 8));
  if (magic !== KEYS_MAGIC)
    throw bad(`key envelope: magic ${JSON.stringify(magic.replace(/[^\x20-\x7e]/g, '?'))}, expected "${KEYS_MAGIC}"`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version !== KEYS_VERSION) throw bad(`key envelope: version ${version}, this server reads version ${KEYS_VERSION}`);
  const headerLength = view.getUint32(12, true);
  if (headerLength < 1 || headerLength > KEYS_MAX_HEADER_BYTES) {
    throw bad(`key envelope: header length ${headerLength} is outside 1…${KEYS_MAX_HEADER_BYTES}`);
  }
  if (KEYS_PREFIX_BYTES + headerLength > bytes.length) {
    throw bad(`key envelope: header of ${headerLength} bytes runs past the end of the ${bytes.length}-byte body`);
  }
  let header: unknown;
  try {
    header = JSON.parse(
      new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(KEYS_PREFIX_BYTES, KEYS_PREFIX_BYTES + headerLength)),
    );
  } catch {
    throw bad('key envelope: header is not UTF-8 JSON');
  }
  checkSchema(KeyEnvelopeHeaderSchema, header, { error: bad, source: 'key envelope', style: ENVELOPE_STYLE });
  const { model, relinBytes, galoisBytes } = header;
  if (relinBytes === 0) throw bad('key envelope: "relinBytes" is 0 (relinearisation keys are required)');
  const start = KEYS_PREFIX_BYTES + headerLength;
  const expected = start + relinBytes + galoisBytes;
  if (expected !== bytes.length) {
    throw bad(
      `key envelope: header promises ${relinBytes} + ${galoisBytes} key bytes after a ${start}-byte prefix (${expected} in all), the body has ${bytes.length} (${bytes.length < expected ? 'truncated' : 'trailing bytes'})`,
    );
  }
  return {
    model,
    relin: bytes.subarray(start, start + relinBytes),
    galois: bytes.subarray(start + relinBytes, expected),
  };
}

/**
 * Split a body of SEAL objects laid back to back (each delimited by the size field of its header). Only the
 * framing is checked here; each object is validated in full by src/ckks before SEAL reads it.
 */
export function splitSealObjects(bytes: Uint8Array, what = 'ciphertext'): Uint8Array[] {
  if (bytes.length === 0) throw new ServerError(400, `bad_${what}`, `empty body: expected SEAL-serialized ${what}s`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Uint8Array[] = [];
  for (let at = 0; at < bytes.length;) {
    const left = bytes.length - at;
    const n = out.length;
    if (left < SEAL_HEADER_BYTES) {
      throw new ServerError(
        400,
        `bad_${what}`,
        `${what} ${n}: ${left} bytes at offset ${at} are shorter than SEAL's ${SEAL_HEADER_BYTES}-byte header`,
      );
    }
    const magic = view.getUint16(at, true);
    if (magic !== SEAL_MAGIC) {
      throw new ServerError(
        400,
        `bad_${what}`,
        `${what} ${n}: not SEAL data (magic 0x${magic.toString(16).padStart(4, '0')} at offset ${at}, expected 0xa15e)`,
      );
    }
    const size = view.getBigUint64(at + 8, true);
    if (size < BigInt(SEAL_HEADER_BYTES) || size > BigInt(left)) {
      throw new ServerError(400, `bad_${what}`, `${what} ${n}: header says ${size} bytes, ${left} remain in the body (truncated?)`);
    }
    out.push(bytes.subarray(at, at + Number(size)));
    at += Number(size);
  }
  return out;
}

/** Lay SEAL objects back to back (the inverse of splitSealObjects). */
export function joinSealObjects(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The error body for a thrown value: a ServerError keeps its status and code; anything else is a 500. */
export function errorBody(err: ServerError): ErrorBody {
  return { error: { code: err.apiCode, message: err.message } };
}
