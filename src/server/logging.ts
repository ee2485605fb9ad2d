/**
 * Structured request logs: one entry per request, handed to a callback (the library never prints; `pann serve`
 * writes each entry as one JSON line). Entries carry sizes and times, never key or ciphertext contents.
 */
import { createHash } from 'node:crypto';

export interface RequestLogEntry {
  /** ISO time the request finished. */
  time: string;
  method: string;
  /** The route pattern, e.g. "POST /v1/sessions/:id/infer" (ids are not in it). */
  route: string;
  status: number;
  /** API error code when status ≥ 400. */
  error?: string;
  /** The authenticated client's name (with --auth). */
  client?: string;
  /** The session's tag (sessionTag): session ids are bearer secrets and never logged. */
  session?: string;
  model?: string;
  /** Request body bytes received. */
  bytesIn: number;
  /** Response body bytes sent. */
  bytesOut: number;
  /** Time from the request's arrival to the end of the answer. */
  ms: number;
  /** Time waiting for a worker, and evaluating there (inference and session requests). */
  queueMs?: number;
  workerMs?: number;
  /** Worker index a session request ran on. */
  worker?: number;
}

/**
 * A session's tag for logs: the first 12 hex digits of the SHA-256 of its id. It tells one session's requests
 * from another's without giving away the id, which is the secret that lets a client use the session.
 */
export function sessionTag(id: string): string {
  return `s-${createHash('sha256').update(id).digest('hex').slice(0, 12)}`;
}

export type RequestLogger = (entry: RequestLogEntry) => void;

/** One line of JSON (what `pann serve` prints). */
export function formatLogLine(entry: RequestLogEntry): string {
  return JSON.stringify({
    ...entry,
    ms: Math.round(entry.ms * 10) / 10,
    ...(entry.queueMs !== undefined ? { queueMs: Math.round(entry.queueMs * 10) / 10 } : {}),
    ...(entry.workerMs !== undefined ? { workerMs: Math.round(entry.workerMs * 10) / 10 } : {}),
  });
}
