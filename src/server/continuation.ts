/**
 * What lets an inference span refresh rounds while the server keeps (almost) nothing between them
 * (docs/server.md, "Refresh rounds"):
 *
 * - a **continuation token** hands the client the evaluation's place (inference id, round, op index), bound to its
 *   session and to an expiry and sealed with an HMAC tag under a per-process secret, so it cannot be forged,
 *   altered, used from another session or after it expires;
 * - a small **pending record** per live inference (the round it waits for, its expiry) makes each token single-use
 *   and bounds how many inferences wait at once, per session and in all; it is removed when the inference
 *   completes, fails or expires.
 *
 * The masks are not stored either: they are re-derived from the server's mask secret and the inference id
 * (src/runtime/refresh.ts, prfMasks).
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ServerError } from '../errors.js';
import { MASK_SECRET_BYTES } from '../runtime/refresh.js';

/** Token record layout (big-endian): version u8, session hash 16, inference id 16, round u16, op index u32, expiry u64 (ms). */
const TOKEN_VERSION = 1;
const SESSION_HASH_BYTES = 16;
export const INFERENCE_ID_BYTES = 16;
const RECORD_BYTES = 1 + SESSION_HASH_BYTES + INFERENCE_ID_BYTES + 2 + 4 + 8;
const TAG_BYTES = 32;
/** base64url of record + tag, unpadded. */
const TOKEN_CHARS = Math.ceil(((RECORD_BYTES + TAG_BYTES) * 4) / 3);

/** The secrets of one server process: one random master secret, split by HMAC labels into independent keys. */
export interface ServerSecrets {
  /** Tags continuation tokens. */
  tokenKey: Uint8Array;
  /** Keys the refresh masks' PRF (prfMasks). */
  maskSecret: Uint8Array;
}

/** Fresh secrets from the OS CSPRNG (32 bytes, at server start; never stored, so tokens die with the process). */
export function serverSecrets(master: Uint8Array = randomBytes(32)): ServerSecrets {
  const derive = (label: string) => new Uint8Array(createHmac('sha256', master).update(label).digest());
  return { tokenKey: derive('pann continuation token v1'), maskSecret: derive('pann refresh masks v1').subarray(0, MASK_SECRET_BYTES) };
}

/** Where a paused inference stands: what a token carries. */
export interface Continuation {
  inference: Uint8Array;
  /** The round whose fresh ciphertexts the client sends next. */
  round: number;
  /** The op index right after that round, where evaluation resumes. */
  opIndex: number;
  /** Date.now() after which the token is refused. */
  expiresAt: number;
}

function sessionHash(session: string): Buffer {
  return createHash('sha256').update(`pann session ${session}`).digest().subarray(0, SESSION_HASH_BYTES);
}

/** Issues and opens continuation tokens under one key. */
export class ContinuationTokens {
  readonly #key: Uint8Array;

  constructor(key: Uint8Array) {
    this.#key = key;
  }

  #tag(record: Uint8Array): Buffer {
    return createHmac('sha256', this.#key).update(record).digest();
  }

  /** The token for `c` in `session`: base64url(record ‖ HMAC-SHA256(key, record)). */
  issue(session: string, c: Continuation): string {
    const record = Buffer.alloc(RECORD_BYTES);
    let at = record.writeUInt8(TOKEN_VERSION, 0);
    at += sessionHash(session).copy(record, at);
    at += Buffer.from(c.inference).copy(record, at);
    at = record.writeUInt16BE(c.round, at);
    at = record.writeUInt32BE(c.opIndex, at);
    record.writeBigUInt64BE(BigInt(c.expiresAt), at);
    return Buffer.concat([record, this.#tag(record)]).toString('base64url');
  }

  /**
   * The continuation a token carries, after checking, in this order: its form (400 bad_token), its tag (403
   * forged_token), its session (403 foreign_token), its expiry (410 expired_token).
   */
  open(token: string, session: string, now: number): Continuation {
    if (token.length !== TOKEN_CHARS || !/^[A-Za-z0-9_-]+$/.test(token)) {
      throw new ServerError(400, 'bad_token', `the continuation token is not one this server issues (${TOKEN_CHARS} base64url characters)`);
    }
    const bytes = Buffer.from(token, 'base64url');
    const record = bytes.subarray(0, RECORD_BYTES);
    if (bytes.toString('base64url') !== token) {
      throw new ServerError(400, 'bad_token', 'the continuation token is not canonical base64url (its last character was altered)');
    }
    if (bytes.length !== RECORD_BYTES + TAG_BYTES || record[0] !== TOKEN_VERSION) {
      throw new ServerError(400, 'bad_token', `continuation token version ${record[0]}, this server issues version ${TOKEN_VERSION}`);
    }
    if (!timingSafeEqual(this.#tag(record), bytes.subarray(RECORD_BYTES))) {
      throw new ServerError(
        403,
        'forged_token',
        'the continuation token was not issued by this server (altered, or from before a restart): start the inference again',
      );
    }
    if (!sessionHash(session).equals(record.subarray(1, 1 + SESSION_HASH_BYTES))) {
      throw new ServerError(403, 'foreign_token', `the continuation token belongs to another session than ${session}`);
    }
    let at = 1 + SESSION_HASH_BYTES;
    const inference = new Uint8Array(record.subarray(at, (at += INFERENCE_ID_BYTES)));
    const round = record.readUInt16BE(at);
    const opIndex = record.readUInt32BE(at + 2);
    const expiresAt = Number(record.readBigUInt64BE(at + 6));
    if (now > expiresAt) {
      throw new ServerError(
        410,
        'expired_token',
        `the continuation token for round ${round} expired ${((now - expiresAt) / 1000).toFixed(1)} s ago: start the inference again`,
      );
    }
    return { inference, round, opIndex, expiresAt };
  }
}

/** Bounds on inferences waiting for a refresh reply. */
export interface PendingLimits {
  /** In all. */
  maxPending: number;
  /** Per session. */
  maxPendingPerSession: number;
  /** How long the server waits for each refresh reply. */
  roundTtlMs: number;
}

interface Pending {
  session: string;
  /** The round whose reply is awaited. */
  round: number;
  expiresAt: number;
  /** A reply for it is being evaluated now. */
  busy: boolean;
}

/** The live inferences: one small record each, keyed by inference id (hex). */
export class PendingInferences {
  readonly #limits: PendingLimits;
  readonly #now: () => number;
  readonly #pending = new Map<string, Pending>();

  constructor(limits: PendingLimits, now: () => number = Date.now) {
    this.#limits = limits;
    this.#now = now;
  }

  get count(): number {
    return this.#pending.size;
  }

  /**
   * A new inference in `session`, busy until its first segment answers. Refuses with 429 when the session has
   * maxPendingPerSession waiting, 503 when the server has maxPending.
   */
  begin(session: string): Uint8Array {
    this.expire();
    const { maxPending, maxPendingPerSession } = this.#limits;
    const mine = [...this.#pending.values()].filter((p) => p.session === session).length;
    if (mine >= maxPendingPerSession) {
      throw new ServerError(
        429,
        'too_many_inferences',
        `session ${session} has ${mine} inferences waiting for refresh replies (the limit is ${maxPendingPerSession}); answer or abandon one first`,
      );
    }
    if (this.#pending.size >= maxPending) {
      throw new ServerError(
        503,
        'inferences_full',
        `${this.#pending.size} inferences are waiting for refresh replies (the server's limit); retry later`,
      );
    }
    const id = randomBytes(INFERENCE_ID_BYTES);
    this.#pending.set(id.toString('hex'), { session, round: 0, expiresAt: this.#now() + this.#limits.roundTtlMs, busy: true });
    return new Uint8Array(id);
  }

  /** Take the reply to `round` of an inference: it must be waiting for exactly that round, and not busy (409 stale_token). */
  claim(inference: Uint8Array, session: string, round: number): void {
    const p = this.#pending.get(Buffer.from(inference).toString('hex'));
    const stale = (why: string) => new ServerError(409, 'stale_token', `the continuation token for round ${round} ${why}`);
    if (!p || p.session !== session || this.#now() > p.expiresAt) {
      throw stale('is no longer valid: its round was answered (a replay?), or the inference ended or was abandoned');
    }
    if (p.busy) throw stale('is being answered by another request');
    if (p.round !== round) throw stale(`was already answered: the inference waits for round ${p.round}`);
    p.busy = true;
  }

  /** The inference now waits for `round`'s reply; returns the reply's deadline. */
  wait(inference: Uint8Array, round: number): number {
    const p = this.#pending.get(Buffer.from(inference).toString('hex'));
    // only dropSession removes a busy record: the session was deleted, evicted or lost while the segment ran
    if (!p) throw new ServerError(404, 'unknown_session', 'the session was closed while this inference was evaluated');
    p.round = round;
    p.busy = false;
    p.expiresAt = this.#now() + this.#limits.roundTtlMs;
    return p.expiresAt;
  }

  /** The inference completed or failed: its tokens are dead. */
  finish(inference: Uint8Array): void {
    this.#pending.delete(Buffer.from(inference).toString('hex'));
  }

  /** Every inference of a session that is gone. */
  dropSession(session: string): void {
    for (const [id, p] of this.#pending) if (p.session === session) this.#pending.delete(id);
  }

  /** Remove abandoned inferences (past their deadline, not busy); returns how many. */
  expire(): number {
    const now = this.#now();
    let n = 0;
    for (const [id, p] of this.#pending) {
      if (!p.busy && now > p.expiresAt) {
        this.#pending.delete(id);
        n++;
      }
    }
    return n;
  }
}
