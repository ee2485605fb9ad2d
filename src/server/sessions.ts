/**
 * The session table (main thread): which worker holds each session's keys, how much memory they take, when
 * each was last used. Opening a session reserves its memory first, evicting least recently used idle sessions
 * to stay within maxSessions and maxKeyMemoryBytes; sessions idle longer than the TTL expire. Ids of removed
 * sessions are remembered (boundedly) so a late request learns why its session is gone.
 */
import { randomBytes } from 'node:crypto';
import { predictSizes } from '../ckks/index.js';
import type { Circuit } from '../circuit/index.js';
import { ServerError } from '../errors.js';
import type { ServerLimits } from './limits.js';

/** Session ids: 128 random bits, base64url (22 characters). Unguessable, so never from a seeded PRNG. */
export const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{22}$/;
const REMEMBERED_REMOVALS = 4096;

export interface SessionEntry {
  id: string;
  model: string;
  /** The client (token name) that opened it; only that client sees it. Absent without --auth. */
  owner?: string;
  worker: number;
  /** Reserved memory: expanded evaluation keys + the encoded plaintexts of the session's prepared circuit. */
  memoryBytes: number;
  state: 'opening' | 'ready';
  createdAt: number;
  lastUsed: number;
  /** Requests using the session now (a busy session is never evicted). */
  inflight: number;
  inferences: number;
}

/**
 * WASM memory one session of `circuit` holds in its worker: the evaluation keys as SEAL expands them (the
 * unseeded size) and every plaintext the prepared circuit encodes (N × (level + 1) 64-bit words each).
 */
export function sessionMemoryBytes(circuit: Circuit): number {
  const params = { polyModulusDegree: circuit.params.polyModulusDegree, coeffModulusBits: circuit.params.coeffModulusBits };
  const sizes = predictSizes(params, circuit.rotationSteps);
  const n = circuit.params.polyModulusDegree;
  const plaintexts = circuit.plaintexts.reduce((s, p) => s + 8 * n * (p.level + 1), 0);
  return sizes.relinKeys + (sizes.galoisKeys ?? 0) + plaintexts;
}

export type RemovalReason = 'deleted' | 'evicted' | 'expired' | 'lost' | 'failed';

const REASON_TEXT: Record<RemovalReason, string> = {
  deleted: 'was deleted',
  evicted: 'was evicted (least recently used) to make room for newer sessions',
  expired: 'expired (unused longer than the session TTL)',
  lost: 'was lost when its worker thread stopped',
  failed: 'failed to open',
};

export class SessionTable {
  readonly #limits: Pick<ServerLimits, 'maxSessions' | 'maxKeyMemoryBytes' | 'sessionTtlMs'>;
  readonly #workers: number;
  readonly #now: () => number;
  /** Insertion order = least recently used first (touch re-inserts). */
  readonly #sessions = new Map<string, SessionEntry>();
  readonly #removed = new Map<string, RemovalReason>();
  #usedBytes = 0;
  /** Told of every removal (the server deletes a removed session's stored keys). */
  onRemove: ((s: SessionEntry, reason: RemovalReason) => void) | null = null;

  constructor(
    limits: Pick<ServerLimits, 'maxSessions' | 'maxKeyMemoryBytes' | 'sessionTtlMs'>,
    workers: number,
    now: () => number = Date.now,
  ) {
    this.#limits = limits;
    this.#workers = workers;
    this.#now = now;
  }

  get count(): number {
    return this.#sessions.size;
  }

  get usedBytes(): number {
    return this.#usedBytes;
  }

  /** Sessions and reserved bytes per worker. */
  perWorker(): { sessions: number; memoryBytes: number }[] {
    const out = Array.from({ length: this.#workers }, () => ({ sessions: 0, memoryBytes: 0 }));
    for (const s of this.#sessions.values()) {
      out[s.worker]!.sessions++;
      out[s.worker]!.memoryBytes += s.memoryBytes;
    }
    return out;
  }

  /**
   * Reserve a new session of `memoryBytes` for `model` on the least loaded worker. Evicts least recently used
   * idle sessions as needed (returned, for the caller to close in their workers). Throws 413 when one session
   * needs more than the whole budget, 503 when only busy sessions could make room. `id`: a stored session's own id
   * (revived after a restart); else a new random one.
   */
  reserve(model: string, memoryBytes: number, owner?: string, id?: string): { entry: SessionEntry; evicted: SessionEntry[] } {
    const { maxSessions, maxKeyMemoryBytes } = this.#limits;
    if (memoryBytes > maxKeyMemoryBytes) {
      throw new ServerError(
        413,
        'keys_too_large',
        `a session of model ${model} needs ${mb(memoryBytes)} of key memory, the server's budget is ${mb(maxKeyMemoryBytes)}`,
      );
    }
    const fits = (extraBytes: number, extraSessions: number) =>
      this.#sessions.size - extraSessions < maxSessions && this.#usedBytes - extraBytes + memoryBytes <= maxKeyMemoryBytes;
    const victims: SessionEntry[] = [];
    let freedBytes = 0;
    for (const s of this.#sessions.values()) {
      if (fits(freedBytes, victims.length)) break;
      if (s.state !== 'ready' || s.inflight > 0) continue;
      victims.push(s);
      freedBytes += s.memoryBytes;
    }
    if (!fits(freedBytes, victims.length)) {
      throw new ServerError(
        503,
        'too_many_sessions',
        `no room for another session: ${this.#sessions.size} open (limit ${maxSessions}), ${mb(this.#usedBytes)} of ${mb(maxKeyMemoryBytes)} key memory in use, and the sessions that could be evicted are busy`,
      );
    }
    for (const v of victims) this.remove(v.id, 'evicted');
    const load = this.perWorker();
    let worker = 0;
    for (let w = 1; w < load.length; w++) {
      const a = load[w]!;
      const b = load[worker]!;
      if (a.memoryBytes < b.memoryBytes || (a.memoryBytes === b.memoryBytes && a.sessions < b.sessions)) worker = w;
    }
    const now = this.#now();
    const entry: SessionEntry = {
      id: id ?? randomBytes(16).toString('base64url'),
      model,
      worker,
      memoryBytes,
      state: 'opening',
      createdAt: now,
      lastUsed: now,
      inflight: 0,
      inferences: 0,
      ...(owner !== undefined ? { owner } : {}),
    };
    this.#sessions.set(entry.id, entry);
    this.#usedBytes += memoryBytes;
    return { entry, evicted: victims };
  }

  /** Open sessions and their reserved bytes of one client. */
  ownedBy(owner: string): { sessions: number; memoryBytes: number } {
    let sessions = 0;
    let memoryBytes = 0;
    for (const s of this.#sessions.values())
      if (s.owner === owner) {
        sessions++;
        memoryBytes += s.memoryBytes;
      }
    return { sessions, memoryBytes };
  }

  /**
   * A ready session, marked most recently used; 404 naming why when it does not exist (any more). With `owner`
   * (--auth), another client's session is answered exactly as one that does not exist.
   */
  use(id: string, owner?: string): SessionEntry {
    if (!SESSION_ID_PATTERN.test(id))
      throw new ServerError(404, 'unknown_session', `${JSON.stringify(id.slice(0, 64))} is not a session id (22 base64url characters)`);
    const found = this.#sessions.get(id);
    const s = found && found.owner === owner ? found : undefined;
    if (!s) {
      const why = found ? undefined : this.#removed.get(id);
      throw new ServerError(404, 'unknown_session', `session ${id} ${why ? REASON_TEXT[why] : 'does not exist'}`);
    }
    if (s.state !== 'ready') throw new ServerError(409, 'session_not_ready', `session ${id} is still opening`);
    if (this.#now() - s.lastUsed > this.#limits.sessionTtlMs && s.inflight === 0) {
      this.remove(id, 'expired');
      throw new ServerError(404, 'unknown_session', `session ${id} ${REASON_TEXT.expired}`);
    }
    s.lastUsed = this.#now();
    this.#sessions.delete(id);
    this.#sessions.set(id, s);
    return s;
  }

  /** Remove a session (idempotent); returns it when it was there. */
  remove(id: string, reason: RemovalReason): SessionEntry | undefined {
    const s = this.#sessions.get(id);
    if (!s) return undefined;
    this.#sessions.delete(id);
    this.#usedBytes -= s.memoryBytes;
    this.#removed.set(id, reason);
    this.onRemove?.(s, reason);
    if (this.#removed.size > REMEMBERED_REMOVALS) this.#removed.delete(this.#removed.keys().next().value!);
    return s;
  }

  /** Idle sessions past the TTL, removed. */
  expire(): SessionEntry[] {
    const now = this.#now();
    const out: SessionEntry[] = [];
    for (const s of [...this.#sessions.values()]) {
      if (s.state === 'ready' && s.inflight === 0 && now - s.lastUsed > this.#limits.sessionTtlMs) {
        this.remove(s.id, 'expired');
        out.push(s);
      }
    }
    return out;
  }

  /** Every session of a worker that stopped, removed. */
  dropWorker(worker: number): SessionEntry[] {
    const out = [...this.#sessions.values()].filter((s) => s.worker === worker);
    for (const s of out) this.remove(s.id, 'lost');
    return out;
  }

  all(): SessionEntry[] {
    return [...this.#sessions.values()];
  }
}

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}
