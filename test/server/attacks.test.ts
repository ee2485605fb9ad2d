/**
 * The cheap denial-of-service attacks of docs/server.md's hardening (issue 17), each against a real server on
 * 127.0.0.1 with real SEAL in its worker: every one of these failed on the server before the fix.
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Circuit } from '../../src/circuit/index.js';
import { httpRequest, type HttpResponse } from '../../src/server/http-request.js';
import { encodeKeyUpload } from '../../src/server/protocol.js';
import { PannServer } from '../../src/server/server.js';
import { denseCircuit, errorCode, expectSimAnswer, localKeys, post, vector, type LocalKeys } from './fixtures.js';

describe('cheap denial of service', () => {
  let a: Circuit;
  let server: PannServer;
  let base: string;
  let ka: LocalKeys;
  const legit: string[] = [];

  beforeAll(async () => {
    a = denseCircuit('dense-a', 16, 3, 4096);
    server = await PannServer.start({ models: [{ id: 'a', circuit: a }], port: 0, limits: { workers: 1, maxSessions: 4 } });
    base = `${server.url}/v1`;
    ka = await localKeys('a', a);
    for (let i = 0; i < 4; i++) {
      const res = await post(`${base}/sessions`, ka.envelope());
      expect(res.status).toBe(201);
      legit.push((JSON.parse(res.body.toString()) as { session: string }).session);
    }
  });
  afterAll(async () => {
    ka?.dispose();
    await server?.close();
  });

  async function expectServes(session: string, seed: number): Promise<void> {
    const x = vector(16, seed);
    expectSimAnswer(ka, a, await post(`${base}/sessions/${session}/infer`, ka.encrypt(x)), x);
  }

  it('40 concurrent 81-byte key envelopes evict no session: each is refused before any memory is reserved', async () => {
    const tiny = encodeKeyUpload({ model: 'a', relin: new Uint8Array(1), galois: new Uint8Array(0) });
    expect(tiny.length).toBeLessThan(100);
    const answers = await Promise.all(Array.from({ length: 40 }, () => post(`${base}/sessions`, tiny)));
    for (const r of answers) expect([400, 429]).toContain(r.status);
    expect(answers.filter((r) => errorCode(r) === 'bad_keys').length).toBeGreaterThan(0);
    expect(answers.find((r) => r.status === 400)!.body.toString()).toMatch(/relinearisation keys for model a/);
    expect(server.metrics().sessions.open).toBe(4);
    for (const [i, s] of legit.entries()) await expectServes(s, 100 + i);
  });

  it('keys cut short (their SEAL header disagrees) are refused before reservation too: no eviction', async () => {
    const wrong = encodeKeyUpload({ model: 'a', relin: ka.relin.subarray(0, ka.relin.length - 8), galois: ka.galois });
    const r = await post(`${base}/sessions`, wrong);
    expect([r.status, errorCode(r)]).toEqual([400, 'bad_keys']);
    expect(server.metrics().sessions.open).toBe(4);
  });

  it('a key upload whose envelope cannot be keys for its model is refused from its first bytes, before the rest is sent', async () => {
    const answer = (headerJson: object, extra: number) =>
      new Promise<string>((resolve) => {
        const h = Buffer.from(JSON.stringify(headerJson));
        const head = Buffer.alloc(16 + h.length);
        head.write('PANNKEYS');
        head.writeUInt32LE(1, 8);
        head.writeUInt32LE(h.length, 12);
        h.copy(head, 16);
        const sock = connect(server.port, '127.0.0.1');
        let got = '';
        sock.on('data', (d: Buffer) => {
          got += d.toString();
          if (got.includes('\r\n\r\n') && got.includes('}}')) sock.destroy();
        });
        sock.on('close', () => resolve(got));
        sock.on('error', () => resolve(got));
        sock.write(
          `POST /v1/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\nContent-Length: ${head.length + extra}\r\n\r\n`,
        );
        sock.write(head); // and nothing more: the answer must come without the 100 MB
      });
    const huge = await answer({ model: 'a', relinBytes: 100_000_000, galoisBytes: ka.galois.length }, 100_000_000 + ka.galois.length);
    expect(huge).toMatch(/^HTTP\/1\.1 400/);
    expect(huge).toMatch(/"bad_keys".*relinearisation keys for model a: the envelope announces 100000000 bytes/);
    const lying = await answer({ model: 'a', relinBytes: ka.relin.length, galoisBytes: ka.galois.length }, 5);
    expect(lying).toMatch(/^HTTP\/1\.1 400/);
    expect(lying).toMatch(/the Content-Length is/);
    expect(server.metrics().sessions.open).toBe(4);
  });

  it('idle connections declaring 256 MiB bodies hold no budget: a legitimate inference still runs', async () => {
    const sockets: Socket[] = [];
    const answers: Promise<string>[] = [];
    for (let i = 0; i < 4; i++) {
      const sock = connect(server.port, '127.0.0.1');
      sockets.push(sock);
      answers.push(
        new Promise((resolve) => {
          let got = '';
          sock.on('data', (d: Buffer) => (got += d.toString()));
          sock.on('close', () => resolve(got));
          sock.on('error', () => resolve(got));
        }),
      );
      sock.write(
        `POST /v1/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\nContent-Length: ${256 * 1024 * 1024}\r\n\r\n`,
      );
    }
    await new Promise((r) => setTimeout(r, 300));
    // before the fix the four declarations reserved the whole 1 GiB body budget: every request got 503
    await expectServes(legit[0]!, 7);
    for (const s of sockets) s.destroy();
    const said = await Promise.all(answers);
    // one address streams at most two key envelopes at once: the other two were refused at once
    expect(said.filter((t) => t.startsWith('HTTP/1.1 429')).length).toBe(2);
    // the slots free when the idle uploads go: a legitimate upload opens a session again
    let opened: HttpResponse | null = null;
    for (let tries = 0; tries < 50 && opened?.status !== 201; tries++) {
      opened = await post(`${base}/sessions`, ka.envelope());
      if (opened.status !== 201) await new Promise((r) => setTimeout(r, 50));
    }
    expect(opened!.status).toBe(201);
  });
});

describe('connections and shutdown', () => {
  it('a flood of idle connections beyond the cap cycles through it: /v1/health still answers on a new connection', async () => {
    const server = await PannServer.start({
      models: [{ id: 'a', circuit: denseCircuit('dense-a', 16, 3, 4096) }],
      port: 0,
      limits: { workers: 1, maxConnections: 64, maxConnectionsPerAddress: 48 },
    });
    const flood: Socket[] = [];
    try {
      for (let i = 0; i < 300; i++) {
        const s = connect(server.port, '127.0.0.1');
        s.on('error', () => {});
        flood.push(s);
      }
      await Promise.all(flood.map((s) => new Promise((r) => (s.readyState === 'open' ? r(null) : s.once('connect', r).once('close', r)))));
      await new Promise((r) => setTimeout(r, 200));
      const health = await httpRequest(`${server.url}/v1/health`);
      expect(health.status).toBe(200);
      const c = server.metrics().connections;
      expect(c.open).toBeLessThanOrEqual(48);
      expect(c.closedIdle).toBeGreaterThanOrEqual(300 - 48);
    } finally {
      for (const s of flood) s.destroy();
      await server.close();
    }
  });

  it('shutdown with a client trickling a body at 1 byte per 100 ms ends at the deadline', async () => {
    const server = await PannServer.start({
      models: [{ id: 'a', circuit: denseCircuit('dense-a', 16, 3, 4096) }],
      port: 0,
      limits: { workers: 1, shutdownTimeoutMs: 1000 },
    });
    const sock = connect(server.port, '127.0.0.1');
    sock.on('error', () => {});
    sock.write('POST /v1/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\nContent-Length: 100000\r\n\r\n');
    const trickle = setInterval(() => sock.writable && sock.write('x'), 100);
    try {
      await new Promise((r) => setTimeout(r, 300));
      const t0 = performance.now();
      await server.close(); // before the fix: still waiting after 200 s
      expect(performance.now() - t0).toBeLessThan(5000);
    } finally {
      clearInterval(trickle);
      sock.destroy();
    }
  });
});
