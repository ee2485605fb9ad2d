/**
 * Clients with bearer tokens and quotas (`pann serve --auth`): the token file keeps hashes only, the server
 * answers 401 without a token, 429 over a quota without touching other clients, and hides one client's sessions
 * from the others. Real server on 127.0.0.1, real SEAL.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Circuit } from '../../src/circuit/index.js';
import { runSim } from '../../src/runtime/inference.js';
import { Authenticator, createToken, readTokenFile, revokeToken } from '../../src/server/auth.js';
import { PannClient } from '../../src/server/client.js';
import { httpRequest } from '../../src/server/http-request.js';
import { PannServer } from '../../src/server/server.js';
import { denseCircuit, errorCode, localKeys, OCTET, post, vector, type LocalKeys } from './fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'pann-auth-'));

describe('token file', () => {
  it('keeps the SHA-256 of each token, never the token; create, list and revoke', () => {
    const file = join(dir, 'tokens.json');
    const alice = createToken(file, 'alice', { maxSessions: 2 });
    const bob = createToken(file, 'bob');
    expect(alice).toMatch(/^pann_[A-Za-z0-9_-]{43}$/);
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain(alice);
    expect(text).not.toContain(bob.slice(5));
    expect(readTokenFile(file).map((t) => [t.name, t.limits])).toEqual([
      ['alice', { maxSessions: 2 }],
      ['bob', {}],
    ]);
    expect(() => createToken(file, 'alice')).toThrow(/already has a client alice/);
    revokeToken(file, 'alice');
    expect(readTokenFile(file).map((t) => t.name)).toEqual(['bob']);
    expect(() => revokeToken(file, 'alice')).toThrow(/has no client "alice"/);
  });

  it('refuses bad names, bad limits and malformed files, naming the file and field', () => {
    const file = join(dir, 'bad.json');
    expect(() => createToken(file, 'no spaces')).toThrow(/client name "no spaces"/);
    expect(() => createToken(file, 'x', { maxSessions: 0 })).toThrow(/maxSessions/);
    writeFileSync(file, '{"format":"pann-tokens","version":1,"tokens":[{"name":"a","sha256":"zz","created":"","limits":{}}]}');
    expect(() => readTokenFile(file)).toThrow(/token file .*bad\.json: .*sha256/);
    writeFileSync(file, 'not json');
    expect(() => readTokenFile(file)).toThrow(/not readable JSON/);
    expect(() => readTokenFile(join(dir, 'absent.json'), { mustExist: true })).toThrow(/does not exist/);
  });

  it('rate: a token bucket of requestsPerMinute, refilled continuously', () => {
    let now = 0;
    const auth = new Authenticator([{ name: 'c', sha256: '0'.repeat(64), created: '', limits: { requestsPerMinute: 2 } }], () => now);
    const c = { name: 'c', limits: { requestsPerMinute: 2 } };
    auth.charge(c);
    auth.charge(c);
    expect(() => auth.charge(c)).toThrow(/over its 2 requests per minute; retry in 30 s/);
    now += 30_000;
    expect(() => auth.charge(c)).not.toThrow();
    expect(() => auth.authenticate(undefined)).toThrow(/needs a bearer token/);
    expect(() => auth.authenticate('Basic abc')).toThrow(/not "Bearer <token>"/);
    expect(() => auth.authenticate(`Bearer pann_${'A'.repeat(43)}`)).toThrow(/not one this server knows/);
  });
});

describe('server with --auth', () => {
  let a: Circuit;
  let server: PannServer;
  let base: string;
  let ka: LocalKeys;
  const tokens: Record<string, string> = {};
  const as = (name: string) => ({ ...OCTET, Authorization: `Bearer ${tokens[name]}` });

  beforeAll(async () => {
    const file = join(dir, 'server-tokens.json');
    tokens['alice'] = createToken(file, 'alice', { maxSessions: 1 });
    tokens['bob'] = createToken(file, 'bob');
    tokens['carol'] = createToken(file, 'carol', { requestsPerMinute: 3 });
    a = denseCircuit('dense-a', 16, 3, 4096);
    server = await PannServer.start({ models: [{ id: 'a', circuit: a }], port: 0, limits: { workers: 1 }, auth: readTokenFile(file) });
    base = `${server.url}/v1`;
    ka = await localKeys('a', a);
  });
  afterAll(async () => {
    ka?.dispose();
    await server?.close();
  });

  it('401 without a valid token (with WWW-Authenticate); /v1/health stays open for probes', async () => {
    const none = await httpRequest(`${base}/models`);
    expect([none.status, errorCode(none)]).toEqual([401, 'unauthorized']);
    expect(none.headers['www-authenticate']).toMatch(/^Bearer/);
    const wrong = await httpRequest(`${base}/models`, { headers: { Authorization: `Bearer pann_${'x'.repeat(43)}` } });
    expect(wrong.status).toBe(401);
    expect((await post(`${base}/sessions`, ka.envelope())).status).toBe(401);
    expect((await httpRequest(`${base}/health`)).status).toBe(200);
    expect((await httpRequest(`${base}/models`, { headers: as('bob') })).status).toBe(200);
  });

  it("a client over its session quota gets 429 and evicts no one; another client's sessions are invisible to it", async () => {
    const first = await post(`${base}/sessions`, ka.envelope(), as('alice'));
    expect(first.status).toBe(201);
    const aliceSession = (JSON.parse(first.body.toString()) as { session: string }).session;
    const second = await post(`${base}/sessions`, ka.envelope(), as('alice'));
    expect([second.status, errorCode(second)]).toEqual([429, 'quota_exceeded']);
    expect(second.body.toString()).toMatch(/client alice already has 1 open session/);
    const bobs = await post(`${base}/sessions`, ka.envelope(), as('bob'));
    expect(bobs.status).toBe(201);
    // bob cannot use, nor learn of, alice's session
    const x = vector(16, 3);
    const stolen = await post(`${base}/sessions/${aliceSession}/infer`, ka.encrypt(x), as('bob'));
    expect([stolen.status, errorCode(stolen)]).toEqual([404, 'unknown_session']);
    expect(stolen.body.toString()).toMatch(/does not exist/);
    expect((await httpRequest(`${base}/sessions/${aliceSession}`, { method: 'DELETE', headers: as('bob') })).status).toBe(404);
    expect((await post(`${base}/sessions/${aliceSession}/infer`, ka.encrypt(x), as('alice'))).status).toBe(200);
    expect(server.metrics().sessions.open).toBe(2);
  });

  it('a client over its request rate gets 429 with Retry-After; other clients are unaffected', async () => {
    for (let i = 0; i < 3; i++) expect((await httpRequest(`${base}/models`, { headers: as('carol') })).status).toBe(200);
    const over = await httpRequest(`${base}/models`, { headers: as('carol') });
    expect([over.status, errorCode(over)]).toEqual([429, 'rate_limited']);
    expect(Number(over.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect((await httpRequest(`${base}/models`, { headers: as('bob') })).status).toBe(200);
  });

  it('the Node client sends its token: a whole encrypted inference as bob', async () => {
    const client = new PannClient(server.url, { token: tokens['bob']! });
    try {
      const session = await client.openSession('a');
      const x = vector(16, 5);
      const r = await session.infer(x);
      const want = runSim(a, x, 1)[0]!.logits;
      r.logits.forEach((v, j) => expect(Math.abs(v - want[j]!)).toBeLessThan(1e-3));
      await session.close();
    } finally {
      client.close();
    }
    expect(() => new PannClient(server.url, { token: 'has space' })).toThrow(/printable characters without spaces/);
  });

  it('without --auth the server binds to a loopback address only, unless told to be insecure', async () => {
    await expect(PannServer.start({ models: [{ id: 'a', circuit: a }], host: '0.0.0.0', port: 0 })).rejects.toThrow(
      /binding to 0\.0\.0\.0 .*--auth <file>.*--insecure-no-auth/,
    );
  });
});
