/**
 * The server's limits, each with a documented default and a check that names a bad value. Every one has a
 * `pann serve` flag.
 */
import { availableParallelism } from 'node:os';
import { InputError } from '../errors.js';

const MiB = 1024 * 1024;

export interface ServerLimits {
  /** Largest body of POST /v1/sessions (the key envelope). @default 256 MiB (the MNIST CNN at N=8192 uploads 118 MB) */
  maxKeysBodyBytes: number;
  /** Largest body of POST /v1/sessions/:id/infer. @default 16 MiB (a full ciphertext at N=16384 is 1.8 MB) */
  maxInferBodyBytes: number;
  /** Bytes of request bodies buffered at once, across all requests; beyond it a request gets 503. @default 1 GiB */
  maxBufferedBodyBytes: number;
  /** Open sessions at once; opening one more evicts the least recently used idle session. @default 64 */
  maxSessions: number;
  /**
   * Memory for session state: expanded evaluation keys plus the model's encoded plaintexts each session holds
   * (in the workers' WASM heaps). Least recently used idle sessions are evicted to make room. @default 2 GiB
   */
  maxKeyMemoryBytes: number;
  /** A session unused this long is closed. @default 30 min */
  sessionTtlMs: number;
  /** Time from accepting a request's body to its answer (queue wait + evaluation); then 503. @default 60 s */
  requestTimeoutMs: number;
  /** Time allowed to receive a request's headers and body (slow senders). @default 120 s */
  bodyTimeoutMs: number;
  /** Requests waiting for a worker (not running); one more gets 503 with Retry-After. @default 32 */
  maxQueue: number;
  /** Worker threads, each with its own SEAL instance. @default os.availableParallelism() */
  workers: number;
  /**
   * How long the server waits for the key holder's reply to a refresh round (the continuation token's lifetime);
   * an inference abandoned longer than this expires. @default 60 s
   */
  roundTtlMs: number;
  /** Inferences waiting for a refresh reply, all sessions together; one more gets 503 inferences_full. @default 256 */
  maxPendingInferences: number;
  /** Inferences waiting for a refresh reply in one session; one more gets 429 too_many_inferences. @default 8 */
  maxPendingPerSession: number;
  /** Key uploads one client address may be sending at once; one more gets 429 too_many_uploads. @default 2 */
  maxUploadsPerClient: number;
  /**
   * Open connections at once; at the cap a new connection takes the place of the oldest idle one, or is refused
   * when all are busy (keep it below the process's file-descriptor limit). @default 4096
   */
  maxConnections: number;
  /** Open connections from one client address, handled the same way. @default 512 */
  maxConnectionsPerAddress: number;
  /**
   * Graceful shutdown waits this long for requests in progress (inferences finishing, bodies arriving), then
   * closes every connection. @default 30 s
   */
  shutdownTimeoutMs: number;
}

export const DEFAULT_LIMITS: Readonly<ServerLimits> = Object.freeze({
  maxKeysBodyBytes: 256 * MiB,
  maxInferBodyBytes: 16 * MiB,
  maxBufferedBodyBytes: 1024 * MiB,
  maxSessions: 64,
  maxKeyMemoryBytes: 2048 * MiB,
  sessionTtlMs: 30 * 60_000,
  requestTimeoutMs: 60_000,
  bodyTimeoutMs: 120_000,
  maxQueue: 32,
  workers: availableParallelism(),
  roundTtlMs: 60_000,
  maxPendingInferences: 256,
  maxPendingPerSession: 8,
  maxUploadsPerClient: 2,
  maxConnections: 4096,
  maxConnectionsPerAddress: 512,
  shutdownTimeoutMs: 30_000,
});

const RANGES: Record<keyof ServerLimits, [number, number]> = {
  maxKeysBodyBytes: [1024, 2 ** 32],
  maxInferBodyBytes: [1024, 2 ** 31],
  maxBufferedBodyBytes: [1024, 2 ** 40],
  maxSessions: [1, 100_000],
  maxKeyMemoryBytes: [MiB, 2 ** 40],
  sessionTtlMs: [1, 7 * 24 * 3_600_000],
  requestTimeoutMs: [1, 3_600_000],
  bodyTimeoutMs: [1, 3_600_000],
  maxQueue: [0, 1_000_000],
  workers: [1, 256],
  roundTtlMs: [1, 3_600_000],
  maxPendingInferences: [1, 1_000_000],
  maxPendingPerSession: [1, 100_000],
  maxUploadsPerClient: [1, 10_000],
  maxConnections: [1, 1_000_000],
  maxConnectionsPerAddress: [1, 1_000_000],
  shutdownTimeoutMs: [0, 3_600_000],
};

/** Defaults overridden by `given`; throws an InputError naming a limit that is not an integer in its range. */
export function resolveLimits(given: Partial<ServerLimits> = {}): ServerLimits {
  const out = { ...DEFAULT_LIMITS };
  for (const [key, value] of Object.entries(given) as [keyof ServerLimits, unknown][]) {
    if (value === undefined) continue;
    const range = RANGES[key];
    if (!range) throw new InputError(`unknown server limit ${JSON.stringify(key)} (known: ${Object.keys(RANGES).join(', ')})`);
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < range[0] || value > range[1]) {
      throw new InputError(`server limit ${key} must be an integer in ${range[0]}…${range[1]}, got ${JSON.stringify(value)}`);
    }
    out[key] = value;
  }
  return out;
}
