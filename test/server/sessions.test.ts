import { describe, expect, it } from 'vitest';
import { ServerError } from '../../src/errors.js';
import { SessionTable } from '../../src/server/sessions.js';

const MB = 1e6;

function table(limits: { maxSessions?: number; maxKeyMemoryBytes?: number; sessionTtlMs?: number } = {}, workers = 2) {
  let now = 1000;
  const t = new SessionTable({ maxSessions: 3, maxKeyMemoryBytes: 100 * MB, sessionTtlMs: 10_000, ...limits }, workers, () => now);
  const open = (bytes = 10 * MB) => {
    const { entry, evicted } = t.reserve('m', bytes);
    entry.state = 'ready';
    return { entry, evicted };
  };
  return { t, open, advance: (ms: number) => (now += ms) };
}

describe('session table', () => {
  it('places sessions on the worker with the least key memory', () => {
    const { open } = table({ maxSessions: 10 });
    expect(open(30 * MB).entry.worker).toBe(0);
    expect(open(10 * MB).entry.worker).toBe(1);
    expect(open(10 * MB).entry.worker).toBe(1);
    expect(open(5 * MB).entry.worker).toBe(1);
    expect(open(5 * MB).entry.worker).toBe(1); // 30 MB each now: the tie goes to the worker with fewer sessions
    expect(open(5 * MB).entry.worker).toBe(0);
  });

  it('evicts the least recently used idle session when the count or the memory is exceeded', () => {
    const { t, open, advance } = table();
    const a = open().entry;
    advance(1);
    const b = open().entry;
    advance(1);
    const c = open().entry;
    advance(1);
    t.use(a.id); // a is now the most recent
    const d = open();
    expect(d.evicted.map((s) => s.id)).toEqual([b.id]);
    expect(() => t.use(b.id)).toThrow(/was evicted/);
    // memory: 3 × 10 MB open; a 85 MB session needs two more evictions (c, then a)
    const big = open(85 * MB);
    expect(big.evicted.map((s) => s.id)).toEqual([c.id, a.id]);
    expect(t.usedBytes).toBe(95 * MB);
  });

  it('never evicts a busy session: 503 when only busy ones could make room', () => {
    const { t, open } = table({ maxSessions: 1 });
    const a = open().entry;
    a.inflight = 1;
    try {
      open();
      expect.unreachable();
    } catch (err) {
      expect((err as ServerError).status).toBe(503);
      expect((err as ServerError).apiCode).toBe('too_many_sessions');
    }
    expect(t.use(a.id)).toBe(a);
  });

  it('refuses a session larger than the whole budget with 413', () => {
    const { open } = table();
    expect(() => open(101 * MB)).toThrow(/needs 101.0 MB of key memory, the server's budget is 100.0 MB/);
  });

  it('expires idle sessions after the TTL and says so', () => {
    const { t, open, advance } = table();
    const a = open().entry;
    const b = open().entry;
    advance(6000);
    t.use(b.id);
    advance(6000);
    expect(t.expire().map((s) => s.id)).toEqual([a.id]);
    expect(() => t.use(a.id)).toThrow(/expired/);
    expect(t.use(b.id).id).toBe(b.id);
  });

  it('ids are 22 base64url characters; malformed and unknown ids are 404', () => {
    const { t, open } = table();
    expect(open().entry.id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(() => t.use('nope')).toThrow(/is not a session id/);
    expect(() => t.use('A'.repeat(22))).toThrow(/does not exist/);
  });

  it('drops every session of a lost worker', () => {
    const { t, open } = table({ maxSessions: 10 });
    const ids = [open(), open(), open()].map((o) => o.entry);
    const lost = t.dropWorker(0);
    expect(lost.length).toBe(ids.filter((s) => s.worker === 0).length);
    for (const s of lost) expect(() => t.use(s.id)).toThrow(/lost when its worker thread stopped/);
  });
});
