/**
 * Request metrics for GET /v1/metrics: counts per route and status, errors per API code, bytes in and out, and
 * latency percentiles over a sliding window of the most recent requests of each route.
 */
import type { RequestLogEntry } from './logging.js';

/** Latencies kept per route for the percentiles. */
export const LATENCY_WINDOW = 2048;

export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export interface RouteMetrics {
  requests: number;
  errors: number;
  /** Over the last LATENCY_WINDOW requests of the route, in ms. */
  latencyMs: LatencySummary;
}

export interface MetricsSnapshot {
  requests: number;
  errors: number;
  byStatus: Record<string, number>;
  errorsByCode: Record<string, number>;
  bytesIn: number;
  bytesOut: number;
  routes: Record<string, RouteMetrics>;
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function summariseLatencies(values: readonly number[]): LatencySummary {
  const s = [...values].sort((a, b) => a - b);
  const r = (x: number) => Math.round(x * 100) / 100;
  return { count: s.length, p50: r(percentile(s, 50)), p95: r(percentile(s, 95)), p99: r(percentile(s, 99)), max: r(s.at(-1) ?? 0) };
}

class Window {
  readonly values: number[] = [];
  #next = 0;
  push(v: number): void {
    if (this.values.length < LATENCY_WINDOW) this.values.push(v);
    else this.values[this.#next] = v;
    this.#next = (this.#next + 1) % LATENCY_WINDOW;
  }
}

export class Metrics {
  #requests = 0;
  #errors = 0;
  #bytesIn = 0;
  #bytesOut = 0;
  readonly #byStatus = new Map<number, number>();
  readonly #errorsByCode = new Map<string, number>();
  readonly #routes = new Map<string, { requests: number; errors: number; window: Window }>();

  /** Count one finished request (the same entry the logger gets). */
  record(e: RequestLogEntry): void {
    this.#requests++;
    this.#bytesIn += e.bytesIn;
    this.#bytesOut += e.bytesOut;
    this.#byStatus.set(e.status, (this.#byStatus.get(e.status) ?? 0) + 1);
    const failed = e.status >= 400;
    if (failed) {
      this.#errors++;
      const code = e.error ?? String(e.status);
      this.#errorsByCode.set(code, (this.#errorsByCode.get(code) ?? 0) + 1);
    }
    let r = this.#routes.get(e.route);
    if (!r) this.#routes.set(e.route, (r = { requests: 0, errors: 0, window: new Window() }));
    r.requests++;
    if (failed) r.errors++;
    r.window.push(e.ms);
  }

  snapshot(): MetricsSnapshot {
    const routes: Record<string, RouteMetrics> = {};
    for (const [name, r] of [...this.#routes].sort(([a], [b]) => a.localeCompare(b))) {
      routes[name] = { requests: r.requests, errors: r.errors, latencyMs: summariseLatencies(r.window.values) };
    }
    return {
      requests: this.#requests,
      errors: this.#errors,
      byStatus: Object.fromEntries([...this.#byStatus].sort(([a], [b]) => a - b).map(([k, v]) => [String(k), v])),
      errorsByCode: Object.fromEntries([...this.#errorsByCode].sort(([a], [b]) => a.localeCompare(b))),
      bytesIn: this.#bytesIn,
      bytesOut: this.#bytesOut,
      routes,
    };
  }
}
