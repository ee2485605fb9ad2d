/**
 * Sessions that survive a restart (`pann serve --state-dir`): a server killed with SIGKILL and started again on the
 * same directory serves the old session (keys loaded on first use); a damaged or truncated file drops that
 * session with a notice and the server starts; DELETE removes the file. Real processes, real SEAL, real HTTP.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveCircuit, type Circuit } from '../../src/circuit/index.js';
import { httpRequest, type HttpResponse } from '../../src/server/http-request.js';
import { sessionIdHash } from '../../src/server/session-store.js';
import { denseCircuit, errorCode, expectSimAnswer, localKeys, post, startServe, vector, type LocalKeys } from './fixtures.js';

describe('pann serve --state-dir', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pann-state-'));
  const state = join(dir, 'state');
  const file = join(dir, 'a.json');
  let a: Circuit;
  let ka: LocalKeys;

  beforeAll(async () => {
    a = denseCircuit('dense-a', 16, 3, 4096);
    saveCircuit(file, a);
    ka = await localKeys('a', a);
  });
  afterAll(() => ka?.dispose());

  const serve = () => startServe([file, '--port', '0', '--workers', '1', '--state-dir', state, '-q']);

  async function infer(url: string, session: string, seed: number): Promise<HttpResponse> {
    return post(`${url}/v1/sessions/${session}/infer`, ka.encrypt(vector(16, seed)));
  }

  const expectCorrect = (res: HttpResponse, seed: number) => expectSimAnswer(ka, a, res, vector(16, seed));

  async function open(url: string): Promise<string> {
    const res = await post(`${url}/v1/sessions`, ka.envelope());
    expect(res.status).toBe(201);
    return (JSON.parse(res.body.toString()) as { session: string }).session;
  }

  async function kill9(child: { kill: (s: NodeJS.Signals) => boolean; once: (e: 'exit', f: () => void) => unknown }): Promise<void> {
    const exited = new Promise<void>((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }

  it('kill -9, start again: the old sessions infer correctly; a damaged or truncated file drops only its session', async () => {
    let s = await serve();
    const keep = await open(s.url);
    const damage = await open(s.url);
    expectCorrect(await infer(s.url, keep, 1), 1);
    const stored = readdirSync(state).filter((f) => f.endsWith('.session'));
    expect(stored.sort()).toEqual([`${sessionIdHash(keep)}.session`, `${sessionIdHash(damage)}.session`].sort());
    for (const f of stored) {
      const text = readFileSync(join(state, f));
      expect(text.includes(Buffer.from(keep))).toBe(false); // ids are bearer secrets: never on disk
      expect(text.includes(Buffer.from(damage))).toBe(false);
    }
    const perSession = statSync(join(state, stored[0]!)).size;
    expect(perSession).toBeGreaterThan(ka.relin.length + ka.galois.length);
    await kill9(s.child);

    // damage one session's keys (one bit in the middle), leave a truncated file and an unfinished write
    const damaged = join(state, `${sessionIdHash(damage)}.session`);
    const bytes = readFileSync(damaged);
    bytes[bytes.length >> 1]! ^= 1;
    writeFileSync(damaged, bytes);
    const truncated = join(state, `${'e'.repeat(64)}.session`);
    writeFileSync(truncated, bytes.subarray(0, 100));
    writeFileSync(join(state, 'x.session.1.tmp'), 'partial');

    const t0 = performance.now();
    s = await serve();
    try {
      const first = await infer(s.url, keep, 2);
      const restartToFirstMs = performance.now() - t0;
      expectCorrect(first, 2);
      expect(restartToFirstMs).toBeGreaterThan(0);
      expect(s.stderr()).toMatch(/state directory: dropped e{64}\.session: .*truncated/);
      expect(s.stderr()).toMatch(/dropped x\.session\.1\.tmp: an unfinished write/);
      expect(existsSync(truncated)).toBe(false);
      const lost = await infer(s.url, damage, 3);
      expect([lost.status, errorCode(lost)]).toEqual([404, 'unknown_session']);
      expect(lost.body.toString()).toMatch(/stored keys are unreadable \(checksum mismatch/);
      expect(existsSync(damaged)).toBe(false);
      expect((await httpRequest(`${s.url}/v1/health`)).status).toBe(200);
      expectCorrect(await infer(s.url, keep, 4), 4); // already loaded: served from memory
      // DELETE removes the stored keys too
      expect((await httpRequest(`${s.url}/v1/sessions/${keep}`, { method: 'DELETE' })).status).toBe(204);
      await new Promise((r) => setTimeout(r, 100));
      expect(readdirSync(state).filter((f) => f.endsWith('.session'))).toEqual([]);
    } finally {
      await kill9(s.child);
    }
  });

  it('a stored session not yet loaded can be deleted; an unknown id stays 404', async () => {
    let s = await serve();
    const id = await open(s.url);
    await kill9(s.child);
    s = await serve();
    try {
      expect((await httpRequest(`${s.url}/v1/sessions/${id}`, { method: 'DELETE' })).status).toBe(204);
      expect((await infer(s.url, id, 1)).status).toBe(404);
      expect((await infer(s.url, 'A'.repeat(22), 1)).status).toBe(404);
    } finally {
      await kill9(s.child);
    }
  });
});
