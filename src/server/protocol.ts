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
 * - Refresh rounds: an evaluation that reaches a round answers with a refresh request instead, the same envelope
 *   with magic "PANNRFSH", a header { token, round, rounds, ciphertexts, level, scale } and the masked ciphertexts;
 *   the key holder answers POST /v1/sessions/:id/infer/continue with "PANNCONT", a header { token } and its fresh
 *   ciphertexts. The answer to that is again a refresh request or the result.
 * - Errors: JSON { "error": { "code", "message" } } with a 4xx/5xx status.
 */
import { ServerError } from '../errors.js';
import { checkSchema } from '../schema/index.js';
import {
  ENVELOPE_STYLE,
  KeyEnvelopeHeaderSchema,
  RefreshReplyHeaderSchema,
  RefreshRequestHeaderSchema,
  type ErrorBody,
  type RefreshRequestHeader,
} from './protocol-schema.js';

export type { ErrorBody } from './protocol-schema.js';

export const API_PREFIX = '/v1';
export const KEYS_MAGIC = 'PANNKEYS';
export const KEYS_VERSION = 1;
export const KEYS_PREFIX_BYTES = 16;
export const KEYS_MAX_HEADER_BYTES = 4096;
/** A refresh request (server → client) and its reply (client → server): PANN envelopes like PANNKEYS. */
export const REFRESH_MAGIC = 'PANNRFSH';
export const CONTINUE_MAGIC = 'PANNCONT';
export const ROUNDS_VERSION = 1;
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

/**
 * A PANN envelope: 8 ASCII bytes of magic, u32 LE version, u32 LE header length H (1 … 4096), H bytes of UTF-8
 * JSON, then the binary payload (the parts laid back to back).
 */
function encodeEnvelope(magic: string, version: number, header: unknown, payload: readonly Uint8Array[]): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(KEYS_PREFIX_BYTES + json.length + payload.reduce((n, p) => n + p.length, 0));
  const view = new DataView(out.buffer);
  out.set(new TextEncoder().encode(magic), 0);
  view.setUint32(8, version, true);
  view.setUint32(12, json.length, true);
  out.set(json, KEYS_PREFIX_BYTES);
  let at = KEYS_PREFIX_BYTES + json.length;
  for (const p of payload) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * The header (parsed JSON, not yet checked) and payload (a view) of a PANN envelope; `fail` makes the error for
 * the first thing wrong in the framing: magic, version, header length, header not UTF-8 JSON.
 */
function parseEnvelope(
  bytes: Uint8Array,
  magic: string,
  version: number,
  what: string,
  fail: (message: string) => Error,
): { header: unknown; payload: Uint8Array } {
  if (bytes.length === 0) throw fail(`empty body: expected a ${magic} ${what}`);
  if (bytes.length < KEYS_PREFIX_BYTES) throw fail(`${what}: ${bytes.length} bytes is shorter than its ${KEYS_PREFIX_BYTES}-byte prefix`);
  const got = new TextDecoder().decode(bytes.subarray(0, 8));
  if (got !== magic) throw fail(`${what}: magic ${JSON.stringify(got.replace(/[^\x20-\x7e]/g, '?'))}, expected "${magic}"`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const v = view.getUint32(8, true);
  if (v !== version) throw fail(`${what}: version ${v}, expected version ${version}`);
  const headerLength = view.getUint32(12, true);
  if (headerLength < 1 || headerLength > KEYS_MAX_HEADER_BYTES) {
    throw fail(`${what}: header length ${headerLength} is outside 1…${KEYS_MAX_HEADER_BYTES}`);
  }
  if (KEYS_PREFIX_BYTES + headerLength > bytes.length) {
    throw fail(`${what}: header of ${headerLength} bytes runs past the end of the ${bytes.length}-byte body`);
  }
  let header: unknown;
  try {
    header = JSON.parse(
      new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(KEYS_PREFIX_BYTES, KEYS_PREFIX_BYTES + headerLength)),
    );
  } catch {
    throw fail(`${what}: header is not UTF-8 JSON`);
  }
  return { header, payload: bytes.subarray(KEYS_PREFIX_BYTES + headerLength) };
}

/** Encode a key upload in the PANNKEYS envelope. */
export function encodeKeyUpload(upload: KeyUpload): Uint8Array {
  const header = { model: upload.model, relinBytes: upload.relin.length, galoisBytes: upload.galois.length };
  return encodeEnvelope(KEYS_MAGIC, KEYS_VERSION, header, [upload.relin, upload.galois]);
}

/** A key envelope's checked header and where its keys start (the whole body, or only its first bytes). */
function keyEnvelopeHeader(bytes: Uint8Array): { model: string; relinBytes: number; galoisBytes: number; start: number } {
  const { header, payload } = parseEnvelope(bytes, KEYS_MAGIC, KEYS_VERSION, 'key envelope', bad);
  checkSchema(KeyEnvelopeHeaderSchema, header, { error: bad, source: 'key envelope', style: ENVELOPE_STYLE });
  if (header.relinBytes === 0) throw bad('key envelope: "relinBytes" is 0 (relinearisation keys are required)');
  return { ...header, start: bytes.length - payload.length };
}

/**
 * Parse a PANNKEYS envelope (views into `bytes`, no copies). Throws a ServerError (400 bad_request) naming the
 * first thing that is wrong: magic, version, header length, header JSON, an unknown or missing field, lengths
 * that do not add up to the body.
 */
export function parseKeyUpload(bytes: Uint8Array): KeyUpload {
  const { model, relinBytes, galoisBytes, start } = keyEnvelopeHeader(bytes);
  const payload = bytes.subarray(start);
  const expected = start + relinBytes + galoisBytes;
  if (expected !== bytes.length) {
    throw bad(
      `key envelope: header promises ${relinBytes} + ${galoisBytes} key bytes after a ${start}-byte prefix (${expected} in all), the body has ${bytes.length} (${bytes.length < expected ? 'truncated' : 'trailing bytes'})`,
    );
  }
  return { model, relin: payload.subarray(0, relinBytes), galois: payload.subarray(relinBytes) };
}

/** Bytes of a key upload's head: enough for its prefix and the longest header. */
export const KEY_UPLOAD_HEAD_BYTES = KEYS_PREFIX_BYTES + KEYS_MAX_HEADER_BYTES;

/** Whether `head` holds a key upload's prefix and whole header (or enough to see it is not one). */
export function keyUploadHeadComplete(head: Uint8Array): boolean {
  if (head.length < KEYS_PREFIX_BYTES) return false;
  const headerLength = new DataView(head.buffer, head.byteOffset, head.byteLength).getUint32(12, true);
  return head.length >= KEYS_PREFIX_BYTES + Math.min(headerLength, KEYS_MAX_HEADER_BYTES);
}

/**
 * The header of a key upload from its first bytes (at least KEY_UPLOAD_HEAD_BYTES of them, or the whole body),
 * read while the rest still streams; with the declared body length, checks the lengths add up. 400 naming the
 * problem.
 */
export function parseKeyUploadHead(head: Uint8Array, declared: number | null): { model: string; relinBytes: number; galoisBytes: number } {
  const { model, relinBytes, galoisBytes, start } = keyEnvelopeHeader(head);
  if (declared !== null && start + relinBytes + galoisBytes !== declared)
    throw bad(
      `key envelope: header promises ${relinBytes} + ${galoisBytes} key bytes after a ${start}-byte prefix (${start + relinBytes + galoisBytes} in all), the Content-Length is ${declared}`,
    );
  return { model, relinBytes, galoisBytes };
}

/** The key holder's part of a refresh round, as the server asks for it (a PANNRFSH envelope's header). */
export type RefreshRequest = RefreshRequestHeader;

/**
 * A refresh request (the answer to POST …/infer or …/infer/continue when the evaluation reached a refresh round):
 * the PANNRFSH envelope, its JSON header, then the masked ciphertexts back to back.
 */
export function encodeRefreshRequest(request: RefreshRequest, masked: readonly Uint8Array[]): Uint8Array {
  return encodeEnvelope(REFRESH_MAGIC, ROUNDS_VERSION, request, masked);
}

/** Whether an answer of the infer routes is a refresh request (PANNRFSH) rather than the result (SEAL objects). */
export function isRefreshRequest(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && new TextDecoder().decode(bytes.subarray(0, 8)) === REFRESH_MAGIC;
}

/** The client's check of a refresh request: framing, header fields (502 bad_response naming the first wrong one). */
export function parseRefreshRequest(bytes: Uint8Array): { request: RefreshRequest; masked: Uint8Array[] } {
  const fail = (message: string) => new ServerError(502, 'bad_response', message);
  const { header, payload } = parseEnvelope(bytes, REFRESH_MAGIC, ROUNDS_VERSION, 'refresh request', fail);
  checkSchema(RefreshRequestHeaderSchema, header, { error: fail, source: 'refresh request', style: ENVELOPE_STYLE });
  const masked = payload.length === 0 ? [] : splitSealObjects(payload, 'ciphertext');
  return { request: header, masked };
}

/** The key holder's answer to a refresh request: the PANNCONT envelope with the token, then the fresh ciphertexts. */
export function encodeRefreshReply(token: string, fresh: readonly Uint8Array[]): Uint8Array {
  return encodeEnvelope(CONTINUE_MAGIC, ROUNDS_VERSION, { token }, fresh);
}

/** The server's parse of a refresh reply: framing and header (400 bad_request); the ciphertexts are split later. */
export function parseRefreshReply(bytes: Uint8Array): { token: string; ciphertexts: Uint8Array } {
  const { header, payload } = parseEnvelope(bytes, CONTINUE_MAGIC, ROUNDS_VERSION, 'refresh reply', bad);
  checkSchema(RefreshReplyHeaderSchema, header, { error: bad, source: 'refresh reply', style: ENVELOPE_STYLE });
  return { token: header.token, ciphertexts: payload };
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
