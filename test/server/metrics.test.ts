import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { DEFAULT_LIMITS, resolveLimits } from '../../src/server/limits.js';
import { formatLogLine } from '../../src/server/logging.js';
import { PannServer } from '../../src/server/server.js';
import { LATENCY_WINDOW, Metrics, percentile } from '../../src/server/metrics.js';

describe('metrics', () => {
  it('nearest-rank percentiles', () => {
    const s = Array.from({ length: 100 }, (_, i) => i + 1);
    expect([percentile(s, 50), percentile(s, 95), percentile(s, 99), percentile(s, 100)]).toEqual([50, 95, 99, 100]);
    expect(percentile([], 50)).toBe(0);
  });

  it('counts requests, errors by code and bytes; latencies over a sliding window', () => {
    const m = new Metrics();
    const entry = (status: number, ms: number, error?: string) => ({
      time: '',
      method: 'POST',
      route: 'POST /v1/sessions/:id/infer',
      status,
      ...(error ? { error } : {}),
      bytesIn: 10,
      bytesOut: 5,
      ms,
    });
    for (let i = 0; i < LATENCY_WINDOW; i++) m.record(entry(200, 1000)); // pushed out of the window below
    for (let i = 1; i <= LATENCY_WINDOW; i++) m.record(entry(200, i));
    m.record(entry(400, 1, 'bad_ciphertext'));
    const s = m.snapshot();
    expect(s.requests).toBe(2 * LATENCY_WINDOW + 1);
    expect(s.errors).toBe(1);
    expect(s.errorsByCode).toEqual({ bad_ciphertext: 1 });
    expect(s.byStatus).toEqual({ '200': 2 * LATENCY_WINDOW, '400': 1 });
    expect(s.bytesIn).toBe(10 * s.requests);
    const lat = s.routes['POST /v1/sessions/:id/infer']!.latencyMs;
    expect(lat.count).toBe(LATENCY_WINDOW);
    expect(lat.max).toBe(LATENCY_WINDOW);
    expect(lat.p50).toBe(LATENCY_WINDOW / 2);
  });

  it('log lines are one line of JSON', () => {
    const line = formatLogLine({ time: 't', method: 'GET', route: 'GET /v1/health', status: 200, bytesIn: 0, bytesOut: 3, ms: 1.23456 });
    expect(line).not.toContain('\n');
    expect(JSON.parse(line)).toMatchObject({ status: 200, ms: 1.2 });
  });
});

describe('limits', () => {
  it('defaults, overridden one by one', () => {
    expect(resolveLimits({})).toEqual({ ...DEFAULT_LIMITS });
    expect(resolveLimits({ maxQueue: 0, workers: 3 })).toMatchObject({ maxQueue: 0, workers: 3, maxSessions: DEFAULT_LIMITS.maxSessions });
  });

  it('names a bad limit', () => {
    expect(() => resolveLimits({ maxSessions: 0 })).toThrow(/maxSessions must be an integer in 1…100000, got 0/);
    expect(() => resolveLimits({ workers: 1.5 })).toThrow(InputError);
    expect(() => resolveLimits({ nope: 1 } as never)).toThrow(/unknown server limit "nope"/);
  });

  it("refuses more key memory than the workers' WASM heaps can hold, before starting any", async () => {
    const start = PannServer.start({
      models: [{ id: 'x', circuit: {} as never }],
      port: 0,
      limits: { workers: 1, maxKeyMemoryBytes: 4 * 1024 ** 3 },
    });
    await expect(start).rejects.toThrow(/more than 1 worker\(s\) can hold/);
  });
});
